import { describe, expect, it } from 'vitest';
import { denseGrid, GRID_COLUMNS, GRID_ROWS } from '../geometry';
import type { Correspondence } from '../protocol';
import { isConfident } from './confident';
import type { Band } from '../confidence/bands';
import { CELL_COLOURS, landingCell, sourceCell, SPLAT_GROWTH, type Rect } from './field';

const rect = (): Rect => ({ x: 0, y: 0, width: 0, height: 0 });

describe('the cells of the dense views', () => {
  it('a grid query sits at the centre of its source cell, and the cells tile the image', () => {
    const size = { width: 300, height: 210 };
    const grid = denseGrid(size.width, size.height);
    const first = sourceCell(grid[0], size, rect());
    expect(first).toEqual({ x: 0, y: 0, width: 300 / GRID_COLUMNS, height: 210 / GRID_ROWS });
    const last = sourceCell(grid[grid.length - 1], size, rect());
    expect(last.x + last.width).toBeCloseTo(300);
    expect(last.y + last.height).toBeCloseTo(210);
  });

  it('lands a target-sized cell, grown so neighbours meet, centred on the match', () => {
    const landed = landingCell({ x: 100, y: 50 }, { width: 640, height: 448 }, rect());
    expect(landed.width).toBeCloseTo((SPLAT_GROWTH * 640) / GRID_COLUMNS);
    expect(landed.height).toBeCloseTo((SPLAT_GROWTH * 448) / GRID_ROWS);
    expect(landed.x + landed.width / 2).toBeCloseTo(100);
    expect(landed.y + landed.height / 2).toBeCloseTo(50);
  });

  it('gives every cell of the grid its own colour', () => {
    expect(CELL_COLOURS).toHaveLength(GRID_COLUMNS * GRID_ROWS);
    expect(new Set(CELL_COLOURS).size).toBe(CELL_COLOURS.length);
  });
});

describe('isConfident', () => {
  const match = (band: Band): Correspondence => ({
    query: { x: 0, y: 0 },
    match: { x: 1, y: 1 },
    probability: 0.2,
    confidence: { likely: 0.9, unsure: 0.5, wrong: 0.1 }[band],
    band,
    backError: 2,
    consistent: true,
    mirrored: false,
  });
  it('keeps the matches the calibrated confidence calls likely right and drops the rest', () => {
    expect(isConfident(match('likely'))).toBe(true);
    expect(isConfident(match('unsure'))).toBe(false);
    expect(isConfident(match('wrong'))).toBe(false);
  });
});
