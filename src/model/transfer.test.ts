import { describe, expect, it } from 'vitest';
import { gridOf } from './matching';
import { transferCentres, transferredPoint, type Landing } from './transfer';

const grid = gridOf(16); // 14 × 20 cells

describe('transferCentres', () => {
  it('takes the 3×3 nearest cells at radius 1.5, fewer at the border, one at radius 0.5', () => {
    const between = transferCentres({ x: 100, y: 70 }, grid, 1.5); // cell (4, 6) at (104, 72)
    expect(between).toHaveLength(9);
    expect(between[0]).toEqual({ x: 88, y: 56 });
    expect(between[8]).toEqual({ x: 120, y: 88 });
    expect(transferCentres({ x: 2, y: 3 }, grid, 1.5)).toEqual([
      { x: 8, y: 8 },
      { x: 24, y: 8 },
      { x: 8, y: 24 },
      { x: 24, y: 24 },
    ]);
    expect(transferCentres({ x: 100, y: 70 }, grid, 0.5)).toEqual([{ x: 104, y: 72 }]);
  });
});

describe('transferredPoint', () => {
  it('lets the neighbours’ rows outvote a click’s own row that picked a wrong cell', () => {
    // The object moved by (+40, +20): every neighbour's row lands right, the click's own lands a cell off.
    const q = { x: 100, y: 70 };
    const truth = { x: 140, y: 90 };
    const own: Landing = { from: q, to: { x: 156, y: 90 }, probability: 0.4 };
    const neighbours: Landing[] = transferCentres(q, grid, 1.5).map((from) => ({
      from,
      to: { x: from.x + 40, y: from.y + 20 },
      probability: 0.2,
    }));
    const p = transferredPoint(q, [own, ...neighbours], 1);
    // (0.4·156 + 9·0.2·140) / (0.4 + 9·0.2) in x, every y lands at 90.
    expect(p.x).toBeCloseTo((0.4 * 156 + 1.8 * 140) / 2.2, 5);
    expect(p.y).toBeCloseTo(90, 5);
    expect(Math.hypot(p.x - truth.x, p.y - truth.y)).toBeLessThan(Math.hypot(own.to.x - truth.x, own.to.y - truth.y) / 4);
  });

  it('weighs each landing by its peak probability to the exponent (0: a plain mean)', () => {
    const q = { x: 50, y: 50 };
    const landings: Landing[] = [
      { from: q, to: { x: 60, y: 50 }, probability: 0.9 },
      { from: { x: 40, y: 50 }, to: { x: 40, y: 50 }, probability: 0.1 },
    ];
    // The second says q stays at 50: moved by q − from = (+10, 0), it lands at (50, 50).
    expect(transferredPoint(q, landings, 0)).toEqual({ x: 55, y: 50 });
    expect(transferredPoint(q, landings, 1).x).toBeCloseTo(59, 5);
    expect(transferredPoint(q, landings, 2).x).toBeCloseTo(50 + (10 * 0.81) / 0.82, 5);
  });
});
