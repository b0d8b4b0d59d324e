/**
 * The geometry and colours of the dense views, pure: where a grid cell of the source is drawn in the
 * target (warp and colour field), and the colour each cell carries.
 */
import { GRID_COLUMNS, GRID_ROWS } from '../geometry';
import type { Point } from '../../model/types';

export interface Size {
  width: number;
  height: number;
}

/** A rectangle, in the pixels of the image it lies on. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Splats are drawn this much larger than a cell, so neighbours that land a little apart still meet and
 * the warped picture has no seams between them.
 */
export const SPLAT_GROWTH = 1.25;

/** The source cell around a grid query point (original source pixels). */
export function sourceCell(query: Point, source: Size, out: Rect): Rect {
  out.width = source.width / GRID_COLUMNS;
  out.height = source.height / GRID_ROWS;
  out.x = query.x - out.width / 2;
  out.y = query.y - out.height / 2;
  return out;
}

/** Where that cell is drawn in the target: a target-sized cell (grown) centred on its match (original target pixels). */
export function landingCell(match: Point, target: Size, out: Rect): Rect {
  out.width = (SPLAT_GROWTH * target.width) / GRID_COLUMNS;
  out.height = (SPLAT_GROWTH * target.height) / GRID_ROWS;
  out.x = match.x - out.width / 2;
  out.y = match.y - out.height / 2;
  return out;
}

/**
 * The colour of grid cell `k` (row-major, as `denseGrid` orders them): hue turns across the columns and
 * lightness falls down the rows, so every region of the source has its own colour and neighbours look alike.
 */
function cellColour(k: number): string {
  const row = Math.floor(k / GRID_COLUMNS);
  const column = k % GRID_COLUMNS;
  const hue = Math.round((300 * column) / (GRID_COLUMNS - 1));
  const lightness = Math.round(72 - (34 * row) / (GRID_ROWS - 1));
  return `hsl(${hue} 90% ${lightness}%)`;
}

/** Every cell's colour, built once: drawing the field allocates no strings. */
export const CELL_COLOURS: readonly string[] = Array.from({ length: GRID_COLUMNS * GRID_ROWS }, (_, k) => cellColour(k));
