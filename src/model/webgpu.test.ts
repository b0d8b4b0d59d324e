/**
 * The WebGPU backend (Dawn in Node; without a GPU, Mesa's lavapipe Vulkan driver) against the fixtures
 * and against wasm: G_1…G_4 and the raw map of the pattern image, the willow pair's matches in every
 * mode. A wrong GPU kernel gives different numbers, not an error, so every answer is compared. Three
 * encodes per backend: on lavapipe each takes 10–30 s.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNodeModel } from './node/io';
import { installNodeWebGPU, LAVAPIPE_ICD } from './node/webgpu';
import {
  expectCells,
  expectRawRow,
  expectRefined,
  fixtureRgb,
  pair,
  pairPoints,
  ref,
  sampleError,
  type Stats,
  pairRows,
} from './testing/parity-fixtures';
import { TEST_MODEL_DIR } from './testing/paths';
import { FUSED_SCALES, SCALE_INDICES, type ScaleIndex } from './constants';
import { gridOf } from './matching';
import type { BackendName, Match, MatchOptions } from './types';

const DRIVER_HINT =
  'WebGPU in Node needs a Vulkan driver that Dawn accepts: Mesa ≥ 24 lavapipe, on Debian 12 ' +
  "`apt-get install -t bookworm-backports mesa-vulkan-drivers` (Debian 12's own Mesa 22 is rejected), " +
  'or a driver named in VK_DRIVER_FILES';

// The fixtures are SPEC §4's rows (no consensus); the consensus is compared with wasm's.
const queries: [string, MatchOptions][] = [
  ...SCALE_INDICES.map((scale): [string, MatchOptions] => [`mmnet s${scale}`, { mode: 'mmnet', scale, consensus: false }]),
  ...FUSED_SCALES.map((scale): [string, MatchOptions] => [`fused s${scale}`, { mode: 'fused', scale, consensus: false }]),
  ['raw', { mode: 'raw', consensus: false }],
  ['fused s3 + consensus + mirror rule', { mode: 'fused', scale: 3, consensus: true, mirror: true }],
];

interface Answers {
  /** The pattern image's G_1…G_4 (h×w×21, flat), then its raw map. */
  maps: Float32Array[];
  /** Max |ours − fixture| over the fixture's samples of G_s, with the tolerance. */
  fixtureErrors: Record<string, [number, number]>;
  /** The willow pair's matches per query. */
  matches: Record<string, Match[]>;
  /** The raw baseline's correlation rows of the willow points. */
  rawRows: Float32Array;
}

/** Everything compared, computed on one backend with the fixtures' model (head v0). */
async function answers(backend: BackendName): Promise<Answers> {
  const model = await loadNodeModel(TEST_MODEL_DIR, { backend });
  expect(model.backend.name).toBe(backend);
  const fixtureErrors: Answers['fixtureErrors'] = {};
  const images = ['pattern', 'willow_a', 'willow_b'].map(fixtureRgb);
  const pattern = await model.encode(images[0]);
  const maps: Float32Array[] = [];
  for (const s of SCALE_INDICES) {
    const map = pattern.featureMap(s);
    const expected = ref.pattern.head[`s${s}`] as Stats;
    fixtureErrors[`G_${s}`] = [await sampleError(map, expected), 2e-3 * expected.absmax];
    maps.push((await map.data()) as Float32Array);
    map.dispose();
  }
  maps.push((await pattern.maps.raw.cells.data()) as Float32Array);
  pattern.dispose();

  const source = await model.encode(images[1]);
  const target = await model.encode(images[2]);
  const matches: Answers['matches'] = {};
  for (const [name, options] of queries) matches[name] = await model.match(source, target, pairPoints, options);
  const rawRows = await pairRows(source, target, 'raw', 3);
  tf.dispose(images);
  source.dispose();
  target.dispose();
  model.dispose();
  expect(tf.memory().numTensors, 'tensors left').toBe(0);
  return { maps, fixtureErrors, matches, rawRows };
}

/** Starts WebGPU in Node, failing with what to install where the driver is missing. */
async function webgpuAnswers(): Promise<Answers> {
  const drivers = process.env.VK_DRIVER_FILES ?? LAVAPIPE_ICD;
  if (!drivers.split(':').some((f) => existsSync(f))) throw new Error(`no Vulkan driver at ${drivers}. ${DRIVER_HINT}`);
  installNodeWebGPU();
  try {
    return await answers('webgpu');
  } catch (e) {
    if ((e as Error).name === 'MMNetError' && /backend/.test((e as Error).message))
      throw new Error(`${(e as Error).message}. ${DRIVER_HINT}`, { cause: e });
    throw e;
  }
}

let wasm: Answers;
let webgpu: Answers;
beforeAll(async () => {
  wasm = await answers('wasm');
  webgpu = await webgpuAnswers();
}, 900_000);

describe('WebGPU against the fixtures', () => {
  it('reproduces G_1…G_4 of the pattern image', () => {
    for (const [name, [error, tolerance]] of Object.entries(webgpu.fixtureErrors)) expect(error, name).toBeLessThanOrEqual(tolerance);
  });

  it.each(SCALE_INDICES)('predicts the willow cells and points, MMNet at scale %i', (scale: ScaleIndex) => {
    const matches = webgpu.matches[`mmnet s${scale}`];
    expectCells(
      matches.map((m) => m.cell),
      pair[`s${scale}`].argmax_cell,
    );
    expectRefined(matches, pair[`s${scale}`]);
  });

  it.each(FUSED_SCALES)('predicts the willow cells and points, fused at scale %i', (scale: ScaleIndex) => {
    const matches = webgpu.matches[`fused s${scale}`];
    expectCells(
      matches.map((m) => m.cell),
      pair[`fused_s${scale}`].argmax_cell,
    );
    expectRefined(matches, pair[`fused_s${scale}`]);
  });

  it('matches the raw row samples', () => {
    const { width, height } = gridOf(16);
    expectRawRow(webgpu.rawRows, width, width * height);
  });
});

describe('WebGPU against wasm, same model', () => {
  it('gives G_1…G_4 and the raw map within 1e-4 of their range', () => {
    webgpu.maps.forEach((ours, k) => {
      const theirs = wasm.maps[k];
      expect(ours.length).toBe(theirs.length);
      let range = 0;
      let error = 0;
      theirs.forEach((v, n) => {
        range = Math.max(range, Math.abs(v));
        error = Math.max(error, Math.abs(ours[n] - v));
      });
      expect(error, k < 4 ? `G_${k + 1}` : 'raw map').toBeLessThanOrEqual(1e-4 * range);
    });
  });

  it.each(queries.map(([name]) => name))("lands every %s match in wasm's cell, with its probability and point", (name) => {
    webgpu.matches[name].forEach((ours, k) => {
      const theirs = wasm.matches[name][k];
      expect(ours.cell, `point ${k}`).toEqual(theirs.cell);
      expect(Math.abs(ours.probability - theirs.probability), `point ${k} probability`).toBeLessThan(1e-3);
      expect(Math.hypot(ours.target.x - theirs.target.x, ours.target.y - theirs.target.y), `point ${k} target`).toBeLessThan(0.05);
    });
  });
});
