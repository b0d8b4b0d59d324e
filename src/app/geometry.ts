/** Pure geometry of the app: the dense grid and the forward–backward check, in original-image pixels. */
import { INPUT_HEIGHT, INPUT_WIDTH, RAW_STRIDE } from '../model/constants';
import type { Point } from '../model/types';

/** Dense view: one query per stride-16 cell of the network input (20 × 14 for 320 × 224). */
export const GRID_COLUMNS = INPUT_WIDTH / RAW_STRIDE;
export const GRID_ROWS = INPUT_HEIGHT / RAW_STRIDE;

/** Cell centres of the dense grid, mapped onto an image of the given size. */
export function denseGrid(width: number, height: number): Point[] {
  const points: Point[] = [];
  for (let i = 0; i < GRID_ROWS; i++) {
    for (let j = 0; j < GRID_COLUMNS; j++) {
      points.push({ x: ((j + 0.5) * width) / GRID_COLUMNS, y: ((i + 0.5) * height) / GRID_ROWS });
    }
  }
  return points;
}

/**
 * A match is consistent when matching it back lands within 5 % of the image's longer side of the query
 * (the PCK@0.05 radius), i.e. the round trip stays on the same part.
 */
const CONSISTENCY_TOLERANCE = 0.05;

export const isConsistent = (backError: number, width: number, height: number) =>
  backError <= CONSISTENCY_TOLERANCE * Math.max(width, height);

export const distance = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);

export const clampPoint = (p: Point, width: number, height: number): Point => ({
  x: Math.min(Math.max(p.x, 0), width),
  y: Math.min(Math.max(p.y, 0), height),
});
