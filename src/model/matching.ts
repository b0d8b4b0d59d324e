import * as tf from '@tensorflow/tfjs-core';
import {
  FUSED_LAMBDA,
  FUSED_TAU,
  HYPERPIXEL_STRIDE,
  INPUT_HEIGHT,
  INPUT_WIDTH,
  RAW_STRIDE,
  SCALE_INDICES,
  scaleSpec,
  type ScaleIndex,
} from './constants';
import { fusedScores, upsampleRows } from './kernels';
import { MMNetError } from './errors';
import type { MatchMode, Point } from './types';

/** One map, flat, in both layouts: queries are sampled from the first, rows multiply the second. */
export type FlatMap = {
  /** [h·w, C], row-major cells. */
  cells: tf.Tensor2D;
  /** [C, h·w]: wasm's matMul is several times slower with a transposed operand. */
  channels: tf.Tensor2D;
};

/** The per-image tensors matching needs. */
export interface FeatureMaps {
  /** G_1…G_4 (21 channels). */
  readonly head: readonly FlatMap[];
  /** `block3_unit22` L2-normalised over channels, 14×20 cells × 1024 (SPEC §4b). */
  readonly raw: FlatMap;
  /** Hyperpixels on the `HYPERPIXEL_STRIDE` grid, unit length (src/model/hyperpixels.ts); when encoded with them. */
  readonly hyper?: FlatMap;
}

export const mapTensors = (m: FeatureMaps): tf.Tensor[] =>
  [...m.head, m.raw, ...(m.hyper ? [m.hyper] : [])].flatMap((f) => [f.cells, f.channels]);

export interface Grid {
  height: number;
  width: number;
  stride: number;
}

export const gridOf = (stride: number): Grid => ({ height: INPUT_HEIGHT / stride, width: INPUT_WIDTH / stride, stride });

/** Raw and hyperpixel rows live on one grid whatever the scale, and are never flipped. */
export const hasOneGrid = (mode: MatchMode): boolean => mode === 'raw' || mode === 'hyper';

/** The grid a mode's rows live on at a given scale. */
export const rowGrid = (mode: MatchMode, scale: ScaleIndex): Grid =>
  gridOf(mode === 'raw' ? RAW_STRIDE : mode === 'hyper' ? HYPERPIXEL_STRIDE : scaleSpec(scale).stride);

/**
 * Bilinear sampling taps of a continuous input-image point on a feature grid, with border clamping
 * (grid_sample, align_corners=False, padding 'border'): 4 cell indices and their weights.
 */
export function bilinearTaps(p: Point, grid: Grid): { index: [number, number, number, number]; weight: [number, number, number, number] } {
  const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const gx = clamp(p.x / grid.stride - 0.5, grid.width - 1);
  const gy = clamp(p.y / grid.stride - 0.5, grid.height - 1);
  const x0 = Math.floor(gx);
  const y0 = Math.floor(gy);
  const x1 = Math.min(x0 + 1, grid.width - 1);
  const y1 = Math.min(y0 + 1, grid.height - 1);
  const wx = gx - x0;
  const wy = gy - y0;
  const cell = (y: number, x: number) => y * grid.width + x;
  return {
    index: [cell(y0, x0), cell(y0, x1), cell(y1, x0), cell(y1, x1)],
    weight: [(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx],
  };
}

/** Bilinear sampling as a matrix, [N, cells]: one row of (at most) four weights per point. */
function samplingMatrix(points: readonly Point[], grid: Grid): tf.Tensor2D {
  const cells = grid.height * grid.width;
  const weights = new Float32Array(points.length * cells);
  points.forEach((p, n) => {
    const { index, weight } = bilinearTaps(p, grid);
    for (let k = 0; k < 4; k++) weights[n * cells + index[k]] += weight[k]; // clamped taps may coincide
  });
  return tf.tensor2d(weights, [points.length, cells]);
}

/**
 * Feature vectors of `map` at the points, [N, C]. A matMul with the sampling matrix: wasm's gather
 * of 1024-channel rows is an order of magnitude slower.
 */
export const sampleAt = (map: FlatMap, points: readonly Point[], grid: Grid): tf.Tensor2D =>
  tf.tidy(() => tf.matMul(samplingMatrix(points, grid), map.cells));

/** One correlation row per query: plain dot products with every target cell, [N, cells]. */
const correlationRows = (queries: tf.Tensor2D, target: FlatMap): tf.Tensor2D => tf.matMul(queries, target.channels);

/** Points of a source's maps, to be scored against a target's maps (input-image coordinates). */
export interface RowQuery {
  source: FeatureMaps;
  target: FeatureMaps;
  points: readonly Point[];
}

/** Correlation rows of every query, stacked in order: [Σ N, cells]. */
const stackedRows = (queries: readonly RowQuery[], map: (m: FeatureMaps) => FlatMap, grid: Grid): tf.Tensor2D =>
  tf.tidy(() => {
    const rows = queries.map((q) => correlationRows(sampleAt(map(q.source), q.points, grid), map(q.target)));
    return rows.length === 1 ? rows[0] : tf.concat(rows, 0);
  });

/** Coarse-to-fine rows of the head (SPEC §4): row_s = corr_s + up×2(row_{s+1}), from scale 4 down to `scale`. */
function headRows(queries: readonly RowQuery[], scale: ScaleIndex): tf.Tensor2D {
  return tf.tidy(() => {
    let rows: tf.Tensor2D | undefined;
    for (let s = 4; s >= scale; s--) {
      const grid = gridOf(scaleSpec(s as ScaleIndex).stride);
      const corr = stackedRows(queries, (m) => m.head[s - 1], grid);
      rows = rows ? tf.add<tf.Tensor2D>(corr, upsampleRows(rows, gridOf(grid.stride * 2), 2)) : corr;
    }
    return rows!;
  });
}

/** Cosine rows of the normalised trunk tap on the stride-16 grid (the training-free baseline). */
export const rawRows = (queries: readonly RowQuery[]): tf.Tensor2D => stackedRows(queries, (m) => m.raw, gridOf(RAW_STRIDE));

/** The hyperpixels of a query's maps (encoded with them). */
function hyperOf(maps: FeatureMaps): FlatMap {
  if (!maps.hyper) throw new MMNetError('bad-argument', 'the "hyper" mode needs features encoded with hyperpixels');
  return maps.hyper;
}

/** Cosine rows of the hyperpixels sharpened to logits, cos / tau, on the `HYPERPIXEL_STRIDE` grid. */
const hyperRows = (queries: readonly RowQuery[], tau: number): tf.Tensor2D =>
  tf.tidy(() => tf.div(stackedRows(queries, hyperOf, gridOf(HYPERPIXEL_STRIDE)), tau));

/**
 * The rows a mode predicts from (SPEC §4, §4b), on `rowGrid(mode, scale)`:
 * - `mmnet`: the head's coarse-to-fine rows;
 * - `fused`: log_softmax(head rows) + λ·up(log_softmax(raw / τ));
 * - `raw`: the trunk's cosine rows;
 * - `hyper`: the hyperpixels' cosine rows over `hyperTau` (`hyperRows`).
 * `flipped` (features of the mirrored images, mapped back) adds log_softmax of their head rows.
 */
export function scoredRows(
  source: FeatureMaps,
  target: FeatureMaps,
  points: readonly Point[],
  scale: ScaleIndex,
  mode: MatchMode,
  flipped?: { source: FeatureMaps; target: FeatureMaps },
  hyperTau?: number,
): tf.Tensor2D {
  const mirrored = flipped && [{ source: flipped.source, target: flipped.target, points }];
  return scoredRowsOf([{ source, target, points }], scale, mode, mirrored, hyperTau);
}

/**
 * `scoredRows` of many queries at once, stacked in order: after the per-query correlations every step runs
 * once over all rows (one source's points on many targets cost a few operations more than on one).
 * `flipped`: the same queries on the mirrored maps.
 */
export function scoredRowsOf(
  queries: readonly RowQuery[],
  scale: ScaleIndex,
  mode: MatchMode,
  flipped?: readonly RowQuery[],
  hyperTau = FUSED_TAU,
): tf.Tensor2D {
  return tf.tidy(() => {
    if (mode === 'raw') return rawRows(queries);
    if (mode === 'hyper') return hyperRows(queries, hyperTau);
    const head = headRows(queries, scale);
    if (mode === 'mmnet' && !flipped) return head;
    return fused({ head, flipped: flipped && headRows(flipped, scale), raw: mode === 'fused' ? rawRows(queries) : undefined }, scale);
  });
}

/** SPEC §4b's fusion of head rows (and their flipped copies) with the raw cosine rows at `scale`. */
const fused = (rows: Parameters<typeof fusedScores>[0], scale: ScaleIndex): tf.Tensor2D => {
  const { height, width, stride } = gridOf(scaleSpec(scale).stride);
  return fusedScores(rows, { height, width, factor: RAW_STRIDE / stride, lambda: FUSED_LAMBDA, tau: FUSED_TAU });
};

/** The scale whose grid is the trunk tap's (stride 16). */
const RAW_SCALE = SCALE_INDICES.find((s) => scaleSpec(s).stride === RAW_STRIDE)!;

/** Centres of every cell of a grid, row-major (input-image coordinates). */
export const cellCentres = (grid: Grid): Point[] =>
  Array.from({ length: grid.height * grid.width }, (_, k) => ({
    x: ((k % grid.width) + 0.5) * grid.stride,
    y: (Math.floor(k / grid.width) + 0.5) * grid.stride,
  }));

/**
 * The fused rows (scale 3) of every cell of the source's stride-16 grid against the target, [S, T], from the
 * cells' raw cosine rows [S, T] (the raw rows of cell centres), already computed by the caller.
 */
export const cellFusedRows = (source: FeatureMaps, target: FeatureMaps, cosines: tf.Tensor2D): tf.Tensor2D =>
  tf.tidy(() =>
    fused({ head: headRows([{ source, target, points: cellCentres(gridOf(RAW_STRIDE)) }], RAW_SCALE), raw: cosines }, RAW_SCALE),
  );

/** The heat-map logits of a scored row: raw cosines are sharpened by 1/τ as in the fused prior. */
export const heatLogitScale = (mode: MatchMode) => (mode === 'raw' ? 1 / FUSED_TAU : 1);

export interface Peak {
  /** Argmax cell (row, column). */
  i: number;
  j: number;
  value: number;
  /** Soft-argmax offset within the 3×3 window, each in [-1, 1]. */
  dy: number;
  dx: number;
}

/**
 * Argmax of one row, refined by the softmax-weighted offset over its 3×3 window; cells outside the
 * map count as −∞ (SPEC §4 "Prediction").
 */
export function refinedPeak(row: ArrayLike<number>, grid: Pick<Grid, 'height' | 'width'>, offset = 0): Peak {
  const cells = grid.height * grid.width;
  let best = offset;
  for (let k = offset + 1; k < offset + cells; k++) if (row[k] > row[best]) best = k;
  const i = Math.floor((best - offset) / grid.width);
  const j = (best - offset) % grid.width;
  const value = row[best];

  let total = 0;
  let dy = 0;
  let dx = 0;
  for (let oy = -1; oy <= 1; oy++) {
    for (let ox = -1; ox <= 1; ox++) {
      const y = i + oy;
      const x = j + ox;
      if (y < 0 || y >= grid.height || x < 0 || x >= grid.width) continue;
      const e = Math.exp(row[offset + y * grid.width + x] - value);
      total += e;
      dy += e * oy;
      dx += e * ox;
    }
  }
  return { i, j, value, dy: dy / total, dx: dx / total };
}

/** The refined peak as a continuous point of the (resized) target image. */
export const peakPoint = (peak: Peak, stride: number): Point => ({
  x: (peak.j + 0.5 + peak.dx) * stride,
  y: (peak.i + 0.5 + peak.dy) * stride,
});

/** softmax(scale · row[offset … offset+cells)), into `out` when given. */
export function softmaxRow(row: ArrayLike<number>, cells: number, offset = 0, scale = 1, out = new Float32Array(cells)): Float32Array {
  let max = -Infinity;
  for (let k = 0; k < cells; k++) max = Math.max(max, row[offset + k] * scale);
  let sum = 0;
  for (let k = 0; k < cells; k++) {
    out[k] = Math.exp(row[offset + k] * scale - max);
    sum += out[k];
  }
  for (let k = 0; k < cells; k++) out[k] /= sum;
  return out;
}

/** Probability of one cell under softmax(scale · row), without materialising the map. */
export function cellProbability(row: ArrayLike<number>, cells: number, offset: number, cell: number, scale = 1): number {
  let max = -Infinity;
  for (let k = 0; k < cells; k++) max = Math.max(max, row[offset + k] * scale);
  let sum = 0;
  for (let k = 0; k < cells; k++) sum += Math.exp(row[offset + k] * scale - max);
  return Math.exp(row[offset + cell] * scale - max) / sum;
}
