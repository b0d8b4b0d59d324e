/**
 * The reference outputs of ../shared/fixtures/mmnet_r101v2_reference.json (SPEC §5) and the checks the
 * parity tests make against them, on any backend. Tolerance: 2e-3 × absmax per tensor (rows: × |row
 * max|); ≥ 9/10 cells equal; refined points within 0.01 px wherever the cell agrees.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Features, MatchMode, MMNet, Point, ScaleIndex } from '..';
import { scoredRows } from '../matching';
import { loadNodeModel, readRgb } from '../node/io';
import { SHARED_DIR } from './paths';

const FIXTURES = join(SHARED_DIR, 'fixtures');

/** A reference tensor: its [C, H, W] shape, max |value| and [c, y, x, value] samples. */
export type Stats = { shape: number[]; absmax: number; samples: [number, number, number, number][] };

export const ref = JSON.parse(readFileSync(join(FIXTURES, 'mmnet_r101v2_reference.json'), 'utf8'));
/** The willow image pair and its reference matches. */
export const pair = ref.willow_pair;
/** The pair's source points, in 224×320 input coordinates. */
export const pairPoints: Point[] = pair.source_points_resized.map(([x, y]: number[]) => ({ x, y }));
/** A fixture image (`pattern`, `willow_a`, `willow_b`) as a 224×320×3 tensor. */
export const fixtureRgb = (name: string) => readRgb(join(FIXTURES, `${name}_224x320.rgb`));

/** Max |ours − ref| over the fixture's [c, y, x] samples of an h×w×C map. */
export async function sampleError(map: tf.Tensor, expected: Stats): Promise<number> {
  const [h, w, c] = map.shape.slice(-3);
  expect([c, h, w]).toEqual(expected.shape);
  const values = await map.data();
  return Math.max(...expected.samples.map(([ch, y, x, v]) => Math.abs(values[(y * w + x) * c + ch] - v)));
}

/** At least 9 of the 10 argmax cells equal. */
export const expectCells = (ours: number[][], theirs: number[][]) =>
  expect(ours.filter((c, k) => c[0] === theirs[k][0] && c[1] === theirs[k][1]).length).toBeGreaterThanOrEqual(9);

/** Refined points must agree wherever the argmax cell does. */
export function expectRefined(ours: { cell: number[]; target: Point }[], expected: { argmax_cell: number[][]; refined_xy: number[][] }) {
  ours.forEach((m, k) => {
    if (m.cell[0] !== expected.argmax_cell[k][0] || m.cell[1] !== expected.argmax_cell[k][1]) return;
    expect(Math.abs(m.target.x - expected.refined_xy[k][0]), `point ${k} x`).toBeLessThan(1e-2);
    expect(Math.abs(m.target.y - expected.refined_xy[k][1]), `point ${k} y`).toBeLessThan(1e-2);
  });
}

/** The raw baseline's first row (20×14 cells at stride 16) against the fixture's samples. */
export function expectRawRow(values: Float32Array, width: number, cells: number) {
  const max = Math.max(...values.subarray(0, cells));
  for (const [i, j, v] of pair.raw_row0_samples) expect(Math.abs(values[i * width + j] - v)).toBeLessThanOrEqual(2e-3 * max);
}

/** The willow points' correlation rows from `source` to `target` (points × cells), read back. */
export async function pairRows(source: Features, target: Features, mode: MatchMode, scale: ScaleIndex): Promise<Float32Array> {
  const t = scoredRows(source.maps, target.maps, pairPoints, scale, mode);
  const values = (await t.data()) as Float32Array;
  t.dispose();
  return values;
}

/**
 * For a test file: the model built in `dir`, loaded before its tests with the willow pair encoded, and
 * disposed after them. `use` receives them before the first test.
 */
export function encodedPair(dir: string, use: (model: MMNet, source: Features, target: Features) => void): void {
  let model: MMNet;
  let source: Features;
  let target: Features;
  beforeAll(async () => {
    model = await loadNodeModel(dir);
    source = await model.encode(fixtureRgb('willow_a'));
    target = await model.encode(fixtureRgb('willow_b'));
    use(model, source, target);
  });
  afterAll(() => {
    source.dispose();
    target.dispose();
    model.dispose();
  });
}
