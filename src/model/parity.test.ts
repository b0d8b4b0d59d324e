/**
 * Parity with ../shared/fixtures/mmnet_r101v2_reference.json (SPEC §5): trunk taps, G_1…G_4, the
 * willow pair's rows, argmax cells and refined points at every scale, the raw baseline and the
 * fused prediction. Tolerance: 2e-3 × absmax per tensor (rows: × |row max|); ≥ 9/10 cells equal.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fileFetch, modelUrl } from './node/io';
import {
  encodedPair,
  expectCells,
  expectRawRow,
  expectRefined,
  fixtureRgb as rgb,
  pair,
  pairPoints as points,
  ref,
  sampleError,
  type Stats,
  pairRows,
} from './testing/parity-fixtures';
import { TEST_MODEL_DIR } from './testing/paths';
import type { Features } from './features';
import type { MMNet } from './mmnet';
import { preprocess } from './image';
import { gridOf } from './matching';
import { trunkTaps } from './trunk';
import { loadWeights } from './weights';
import { scaleSpec, type ScaleIndex } from './constants';
import type { MatchMode } from './types';

let model: MMNet;
let source: Features;
let target: Features;
encodedPair(TEST_MODEL_DIR, (m, s, t) => {
  [model, source, target] = [m, s, t];
});

describe('trunk and head on the pattern image', () => {
  it('reproduces every trunk tap', async () => {
    const { weights } = await loadWeights(modelUrl(TEST_MODEL_DIR), { fetch: fileFetch });
    const input = preprocess(rgb('pattern'));
    const errors: Record<string, [number, number]> = {};
    const pending: Promise<void>[] = [];
    for (const [name, tap] of trunkTaps(weights, input)) {
      const expected = ref.pattern.taps[name] as Stats | undefined;
      if (!expected) continue;
      const copy = tap.clone();
      pending.push(
        sampleError(copy, expected)
          .then((e) => void (errors[name] = [e, 2e-3 * expected.absmax]))
          .finally(() => copy.dispose()),
      );
    }
    await Promise.all(pending);
    input.dispose();
    tf.dispose(Object.values(weights));
    expect(Object.keys(errors).sort()).toEqual(Object.keys(ref.pattern.taps).sort());
    for (const [name, [error, tolerance]] of Object.entries(errors)) expect(error, name).toBeLessThanOrEqual(tolerance);
  });

  it('reproduces G_1…G_4', async () => {
    const features = await model.encode(rgb('pattern'));
    for (const s of [1, 2, 3, 4] as ScaleIndex[]) {
      const expected = ref.pattern.head[`s${s}`] as Stats;
      const map = features.featureMap(s);
      expect(await sampleError(map, expected), `G_${s}`).toBeLessThanOrEqual(2e-3 * expected.absmax);
      map.dispose();
    }
    features.dispose();
  });
});

const rows = (mode: MatchMode, scale: ScaleIndex) => pairRows(source, target, mode, scale);

describe.each([4, 3, 2, 1] as ScaleIndex[])('willow pair, MMNet rows at scale %i', (scale) => {
  const expected = pair[`s${scale}`];
  const cells = gridOf(scaleSpec(scale).stride).height * gridOf(scaleSpec(scale).stride).width;

  it('matches the first row and every row maximum', async () => {
    const values = await rows('mmnet', scale);
    const { width } = gridOf(scaleSpec(scale).stride);
    const tolerance = 2e-3 * Math.abs(expected.row_max[0]);
    for (const [i, j, v] of expected.row0_samples) expect(Math.abs(values[i * width + j] - v)).toBeLessThanOrEqual(tolerance);
    expected.row_max.forEach((max: number, n: number) => {
      const ours = Math.max(...values.subarray(n * cells, (n + 1) * cells));
      expect(Math.abs(ours - max), `row ${n}`).toBeLessThanOrEqual(2e-3 * Math.abs(max));
    });
  });

  it('predicts the argmax cells and refined points', async () => {
    const matches = await model.match(source, target, points, { scale, mode: 'mmnet', consensus: false, transfer: false });
    expectCells(
      matches.map((m) => m.cell),
      expected.argmax_cell,
    );
    expectRefined(matches, expected);
  });
});

describe('raw baseline and fused prediction', () => {
  it('matches the raw row samples', async () => {
    const { width, height } = gridOf(16);
    expectRawRow(await rows('raw', 3), width, width * height);
  });

  it.each([3, 2, 1] as ScaleIndex[])('predicts the fused cells and points at scale %i', async (scale) => {
    const expected = pair[`fused_s${scale}`];
    const matches = await model.match(source, target, points, { scale, mode: 'fused', consensus: false, transfer: false });
    expectCells(
      matches.map((m) => m.cell),
      expected.argmax_cell,
    );
    expectRefined(matches, expected);
  });
});
