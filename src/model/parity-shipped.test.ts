/**
 * Parity of the shipped weight storage (scripts/build/quantize.ts DEFAULT_SCHEME, or $MMNET_QUANTIZE; head v0 built so by
 * scripts/testing/global-setup.ts) with the float16 fixtures of ../shared/fixtures. parity.test.ts holds the
 * exact float16 parity; here the tolerances add what the quantization itself moves, derived from its
 * measured error: e = the largest relative error ‖G − G_float16‖ / ‖G_float16‖ over G_1…G_4 and the
 * raw tap on 8 Caltech-101 calibration photos (`npx tsx scripts/eval/quant-sensitivity.ts`, whole-scheme
 * rows; not these fixtures):
 * - map samples: (2e-3 + 3e) × absmax (3 standard deviations of the error, whose rms ≤ e × absmax);
 * - correlation rows: (2e-3 + 6e) × |row max| (both maps of a correlation move: twice that);
 * - predictions: at least 9 − round(10e) of the 10 points within PCK's α = 0.1 of the reference point
 *   (α × the larger side of the reference points' bounding box, the unit of the PF-WILLOW rule that
 *   chose the scheme): the float16 rule allows one miss, then one more per 10 % of relative error, as
 *   a point whose best cells score within the row's error of each other may jump (int4 changes 3–4 of
 *   10 argmax cells at scales 1–2 on this pair, some by more than one cell, while its PF-WILLOW PCK does
 *   not drop); refined points within 0.01 px + 6e × stride where the cell is equal.
 */
import { describe, expect, it } from 'vitest';
import {
  encodedPair,
  fixtureRgb as rgb,
  pair,
  pairPoints as points,
  ref,
  sampleError,
  type Stats,
  pairRows,
} from './testing/parity-fixtures';
import { TEST_SHIPPED_MODEL_DIR, TEST_SHIPPED_SCHEME } from './testing/paths';
import type { Scheme } from './quantization';
import { scaleSpec, type ScaleIndex } from './constants';
import { gridOf } from './matching';
import type { Features } from './features';
import type { MMNet } from './mmnet';
import type { Match, MatchMode } from './types';

/** e per scheme, from scripts/eval/quant-sensitivity.ts (max over G_1…G_4 and raw of its whole-scheme rows). */
const MEASURED_ERROR: Record<Scheme, number> = { float16: 0, int8: 0.021, mixed: 0.079, int4: 0.152 };
const scheme = TEST_SHIPPED_SCHEME;
const e = MEASURED_ERROR[scheme];
const mapTolerance = 2e-3 + 3 * e;
const rowTolerance = 2e-3 + 6 * e;
const minClose = 9 - Math.round(10 * e);

function expectClose(ours: Match[], expected: { refined_xy: number[][] }) {
  const xs = expected.refined_xy.map((p) => p[0]);
  const ys = expected.refined_xy.map((p) => p[1]);
  const unit = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
  const close = ours.filter(
    (m, k) => Math.hypot(m.target.x - expected.refined_xy[k][0], m.target.y - expected.refined_xy[k][1]) <= 0.1 * unit,
  );
  expect(close.length).toBeGreaterThanOrEqual(minClose);
}

let model: MMNet;
let source: Features;
let target: Features;
encodedPair(TEST_SHIPPED_MODEL_DIR, (m, s, t) => {
  [model, source, target] = [m, s, t];
  expect(model.metadata.quantization).toBe(scheme);
});

const rows = (mode: MatchMode, scale: ScaleIndex) => pairRows(source, target, mode, scale);

function expectRefined(ours: Match[], expected: { argmax_cell: number[][]; refined_xy: number[][] }, stride: number) {
  const tolerance = 1e-2 + 6 * e * stride;
  ours.forEach((m, k) => {
    if (m.cell[0] !== expected.argmax_cell[k][0] || m.cell[1] !== expected.argmax_cell[k][1]) return;
    expect(Math.abs(m.target.x - expected.refined_xy[k][0]), `point ${k} x`).toBeLessThanOrEqual(tolerance);
    expect(Math.abs(m.target.y - expected.refined_xy[k][1]), `point ${k} y`).toBeLessThanOrEqual(tolerance);
  });
}

describe(`${scheme} weights (e = ${e}, ≥ ${minClose}/10 points within PCK@0.1 of the reference)`, () => {
  it(`reproduces G_1…G_4 within ${mapTolerance.toFixed(4)} × absmax`, async () => {
    const features = await model.encode(rgb('pattern'));
    for (const s of [1, 2, 3, 4] as ScaleIndex[]) {
      const expected = ref.pattern.head[`s${s}`] as Stats;
      const map = features.featureMap(s);
      expect(await sampleError(map, expected), `G_${s}`).toBeLessThanOrEqual(mapTolerance * expected.absmax);
      map.dispose();
    }
    features.dispose();
  });

  it.each([4, 3, 2, 1] as ScaleIndex[])(
    `matches MMNet rows at scale %i within ${rowTolerance.toFixed(4)} × |row max|, cells and points`,
    async (scale) => {
      const expected = pair[`s${scale}`];
      const { width, height, stride } = gridOf(scaleSpec(scale).stride);
      const values = await rows('mmnet', scale);
      for (const [i, j, v] of expected.row0_samples)
        expect(Math.abs(values[i * width + j] - v)).toBeLessThanOrEqual(rowTolerance * Math.abs(expected.row_max[0]));
      expected.row_max.forEach((max: number, n: number) => {
        const ours = Math.max(...values.subarray(n * width * height, (n + 1) * width * height));
        expect(Math.abs(ours - max), `row ${n}`).toBeLessThanOrEqual(rowTolerance * Math.abs(max));
      });
      const matches = await model.match(source, target, points, { scale, mode: 'mmnet', consensus: false, transfer: false });
      expectClose(matches, expected);
      expectRefined(matches, expected, stride);
    },
  );

  it('matches the raw row samples', async () => {
    const { width, height } = gridOf(16);
    const values = await rows('raw', 3);
    const max = Math.max(...values.subarray(0, width * height));
    for (const [i, j, v] of pair.raw_row0_samples) expect(Math.abs(values[i * width + j] - v)).toBeLessThanOrEqual(rowTolerance * max);
  });

  it.each([3, 2, 1] as ScaleIndex[])('predicts the fused cells and points at scale %i', async (scale) => {
    const expected = pair[`fused_s${scale}`];
    const matches = await model.match(source, target, points, { scale, mode: 'fused', consensus: false, transfer: false });
    expectClose(matches, expected);
    expectRefined(matches, expected, scaleSpec(scale).stride);
  });
});
