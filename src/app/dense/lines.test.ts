import { describe, expect, it } from 'vitest';
import { denseGrid, GRID_COLUMNS, GRID_ROWS } from '../geometry';
import type { Correspondence } from '../protocol';
import { cachedLineCells, LINE_SPACING, lineCells, MAX_LINES } from './lines';

const size = { width: 320, height: 224 };

/** The dense grid's answers, each cell's confidence, band and check given by `rate`. */
const grid = (rate: (k: number) => Pick<Correspondence, 'confidence' | 'band' | 'consistent'>): Correspondence[] =>
  denseGrid(size.width, size.height).map((query, k) => ({
    query,
    match: query,
    probability: 0.2,
    backError: 1,
    mirrored: false,
    ...rate(k),
  }));

const likely = (confidence: number) => ({ confidence, band: 'likely' as const, consistent: true });

describe('lineCells', () => {
  it('draws at most MAX_LINES lines, on a spaced lattice, the most confident first', () => {
    // Every cell confident: a line each would be 280.
    const matches = grid((k) => likely(0.7 + (0.29 * ((k * 37) % 280)) / 280));
    const cells = lineCells(matches);
    expect(cells).toHaveLength(MAX_LINES);
    for (const k of cells) {
      expect((k % GRID_COLUMNS) % LINE_SPACING).toBe(1);
      expect(Math.floor(k / GRID_COLUMNS) % LINE_SPACING).toBe(1);
    }
    const confidences = cells.map((k) => matches[k].confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
    // None left out was more confident than the least confident kept.
    const lattice = matches.flatMap((m, k) => ((k % GRID_COLUMNS) % 2 === 1 && Math.floor(k / GRID_COLUMNS) % 2 === 1 ? [m] : []));
    expect(lattice).toHaveLength((GRID_COLUMNS / 2) * Math.floor(GRID_ROWS / 2));
    const kept = new Set(cells.map((k) => matches[k]));
    const floor = Math.min(...confidences);
    for (const m of lattice) if (!kept.has(m)) expect(m.confidence).toBeLessThanOrEqual(floor);
  });

  it('leaves out the unsure, the probably wrong and the inconsistent', () => {
    const matches = grid((k) =>
      k % 3 === 0
        ? likely(0.9)
        : k % 3 === 1
          ? { confidence: 0.5, band: 'unsure', consistent: true }
          : { ...likely(0.95), consistent: false },
    );
    const cells = lineCells(matches);
    expect(cells.length).toBeGreaterThan(0);
    for (const k of cells) expect(k % 3).toBe(0);
  });

  it('is computed once per dense result', () => {
    const matches = grid(() => likely(0.8));
    expect(cachedLineCells(matches)).toBe(cachedLineCells(matches));
    expect(cachedLineCells(grid(() => likely(0.8)))).not.toBe(cachedLineCells(matches));
  });
});
