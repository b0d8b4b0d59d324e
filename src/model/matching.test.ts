import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { bilinearTaps, peakPoint, refinedPeak, sampleAt, softmaxRow, cellProbability } from './matching';
import { toInput, toOriginal } from './image';

beforeAll(() => selectBackend({ backend: 'wasm' }));

describe('bilinear sampling (grid_sample, border, align_corners=False)', () => {
  const grid = { height: 3, width: 4, stride: 8 };

  it('hits a cell centre exactly', () => {
    const { index, weight } = bilinearTaps({ x: 8 * 1.5, y: 8 * 2.5 }, grid);
    expect(index[0]).toBe(2 * 4 + 1);
    expect(weight).toEqual([1, 0, 0, 0]);
  });

  it('clamps outside the first and last cell centres', () => {
    expect(bilinearTaps({ x: 0, y: 0 }, grid)).toEqual({ index: [0, 1, 4, 5], weight: [1, 0, 0, 0] });
    const corner = bilinearTaps({ x: 1000, y: 1000 }, grid);
    expect(corner.index).toEqual([11, 11, 11, 11]);
    expect(corner.weight.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
  });

  it('interpolates between neighbours', async () => {
    // values = 10·row + column; the point between cells (0,1),(0,2),(1,1),(1,2) at a quarter/half offset
    const cells = tf.tensor2d(
      Array.from({ length: 12 }, (_, k) => 10 * Math.floor(k / 4) + (k % 4)),
      [12, 1],
    );
    const map = { cells, channels: tf.transpose(cells) };
    const p = { x: (1.25 + 0.5) * 8, y: (0.5 + 0.5) * 8 };
    const sampled = sampleAt(map, [p, { x: -5, y: 1000 }], grid);
    expect(Array.from(await sampled.data())).toEqual([expect.closeTo(10 * 0.5 + 1.25, 5), 20]); // the second clamps to cell (2, 0)
    tf.dispose([cells, map.channels, sampled]);
  });
});

describe('refinedPeak', () => {
  it('is the argmax cell plus the softmax-weighted offset of its 3×3 window', () => {
    const row = new Float32Array(9 * 9).fill(-50);
    row[4 * 9 + 4] = 2;
    row[4 * 9 + 5] = 1;
    const peak = refinedPeak(row, { height: 9, width: 9 });
    expect([peak.i, peak.j, peak.value]).toEqual([4, 4, 2]);
    const e = Math.exp(-1);
    expect(peak.dx).toBeCloseTo(e / (1 + e + 7 * Math.exp(-52)), 6);
    expect(peak.dy).toBeCloseTo(0, 6);
    expect(peakPoint(peak, 4)).toEqual({ x: (4.5 + peak.dx) * 4, y: (4.5 + peak.dy) * 4 });
  });

  it('ignores cells outside the map at its edge', () => {
    // Peak in the top-left corner with equal neighbours: only the 4 in-map cells count.
    const row = new Float32Array([1, 1, 0, 1, 1, 0, 0, 0, 0]);
    row[0] = 1.0001;
    const peak = refinedPeak(row, { height: 3, width: 3 });
    expect([peak.i, peak.j]).toEqual([0, 0]);
    expect(peak.dx).toBeGreaterThan(0.49);
    expect(peak.dy).toBeGreaterThan(0.49);
  });

  it('reads the row of the n-th query at its offset', () => {
    const rows = new Float32Array([0, 9, 0, 0, 0, 0, 0, 9]);
    expect(refinedPeak(rows, { height: 2, width: 2 }, 4)).toMatchObject({ i: 1, j: 1 });
  });
});

describe('softmax', () => {
  it('sums to one and agrees with cellProbability', () => {
    const row = [0.5, 3, -1, 2];
    const p = softmaxRow(row, 4, 0, 2);
    expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 6);
    expect(cellProbability(row, 4, 0, 1, 2)).toBeCloseTo(p[1], 6);
  });
});

describe('coordinates', () => {
  it('maps original ↔ network input by the size ratio (continuous coordinates)', () => {
    const size = { width: 640, height: 448 };
    expect(toInput({ x: 320, y: 224 }, size)).toEqual({ x: 160, y: 112 });
    expect(toOriginal({ x: 160, y: 112 }, size)).toEqual({ x: 320, y: 224 });
    const p = { x: 17.3, y: 401.9 };
    const back = toOriginal(toInput(p, size), size);
    expect(back.x).toBeCloseTo(p.x, 9);
    expect(back.y).toBeCloseTo(p.y, 9);
  });
});
