import { describe, expect, it } from 'vitest';
import { denseGrid, GRID_COLUMNS, GRID_ROWS, isConsistent } from './geometry';

describe('geometry', () => {
  it('puts the dense grid on the stride-16 cell centres of the network input, in original pixels', () => {
    const grid = denseGrid(640, 448);
    expect(grid).toHaveLength(GRID_COLUMNS * GRID_ROWS);
    expect(grid.length).toBe(280);
    expect(grid[0]).toEqual({ x: 16, y: 16 });
    expect(grid[grid.length - 1]).toEqual({ x: 624, y: 432 });
  });

  it('calls a round trip consistent within 5 % of the longer side', () => {
    expect(isConsistent(10, 200, 100)).toBe(true);
    expect(isConsistent(10.5, 200, 100)).toBe(false);
  });
});
