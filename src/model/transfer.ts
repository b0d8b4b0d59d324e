/**
 * Keypoint transfer after HPF (Min et al., ICCV 2019, `predict_kps`): a click is not placed by the argmax of
 * its own row alone. The source cells around it each match with their own (consensus-weighted) row, and each
 * says where the click lands: its refined peak moved by the click's offset from the cell's centre. The
 * prediction is the mean of those and of the click's own peak, each weighed by its row's peak probability to
 * `exponent`. Where the click's own row picks a wrong cell next to the right one (most misses on val), its
 * neighbours' rows outvote it (docs/geometry.md, "Round 5").
 */
import type { Grid } from './matching';
import type { Point } from './types';

/** The transfer's constants (models/matching.json, chosen on the selection split). */
export interface TransferConstants {
  /** Source cells whose centres lie within this many cells of the click on both axes take part (1.5: the 3×3 nearest). */
  transferRadius: number;
  /** Each prediction weighs its row's peak probability to this power. */
  transferExponent: number;
}

/** Centres of the cells of `grid` within `radius` cells of `q` on both axes, row-major (input coordinates). */
export function transferCentres(q: Point, grid: Grid, radius: number): Point[] {
  const reach = radius * grid.stride;
  // Cell k's centre is (k + 0.5)·stride: the first and last index within reach on one axis.
  const span = (v: number, size: number) => [
    Math.max(0, Math.ceil((v - reach) / grid.stride - 0.5)),
    Math.min(size - 1, Math.floor((v + reach) / grid.stride - 0.5)),
  ];
  const [i0, i1] = span(q.y, grid.height);
  const [j0, j1] = span(q.x, grid.width);
  const centres: Point[] = [];
  for (let i = i0; i <= i1; i++) for (let j = j0; j <= j1; j++) centres.push({ x: (j + 0.5) * grid.stride, y: (i + 0.5) * grid.stride });
  return centres;
}

/** Where one row says the click lands: the row's query point `from`, its refined peak `to`, its peak probability. */
export interface Landing {
  from: Point;
  to: Point;
  probability: number;
}

/** The click `q` moved like each landing (to + q − from), averaged with weights probability^exponent. */
export function transferredPoint(q: Point, landings: readonly Landing[], exponent: number): Point {
  let total = 0;
  let x = 0;
  let y = 0;
  for (const { from, to, probability } of landings) {
    const w = probability ** exponent;
    total += w;
    x += w * (to.x + q.x - from.x);
    y += w * (to.y + q.y - from.y);
  }
  return { x: x / total, y: y / total };
}
