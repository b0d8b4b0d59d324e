/**
 * Which dense matches the lines view draws: a line per cell of the 20 × 14 grid is a tangle, so only a
 * spaced lattice of cells (every other row and column), only the confident and consistent ones, and of
 * those the most confident few, which lie on the object's distinctive parts rather than on a plain
 * background.
 */
import { GRID_COLUMNS } from '../geometry';
import type { Correspondence } from '../protocol';
import { isConfident } from './confident';

/** Cells between drawn lines, each way. */
export const LINE_SPACING = 2;
/** At most this many lines: enough to show the mapping's shape, few enough to follow each one. */
export const MAX_LINES = 30;

/** What the choice reads of a match (an exported one will do). */
export type LineCandidate = Pick<Correspondence, 'band' | 'confidence' | 'consistent'>;

const onLattice = (k: number) => (k % GRID_COLUMNS) % LINE_SPACING === 1 && Math.floor(k / GRID_COLUMNS) % LINE_SPACING === 1;

/** The grid indices (row-major, as `denseGrid` orders them) of the matches to draw as lines, most confident first. */
export function lineCells(matches: readonly LineCandidate[]): number[] {
  const cells: number[] = [];
  matches.forEach((m, k) => {
    if (onLattice(k) && isConfident(m) && m.consistent) cells.push(k);
  });
  return cells.sort((a, b) => matches[b].confidence - matches[a].confidence).slice(0, MAX_LINES);
}

const chosen = new WeakMap<readonly Correspondence[], number[]>();

/** `lineCells`, computed once per dense result (redraws reuse it). */
export function cachedLineCells(matches: readonly Correspondence[]): number[] {
  let cells = chosen.get(matches);
  if (!cells) chosen.set(matches, (cells = lineCells(matches)));
  return cells;
}
