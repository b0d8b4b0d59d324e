import { describe, expect, it } from 'vitest';
import { inkOn, paintHeatmap } from './draw';

const paint = (data: Float32Array) => {
  const image = { data: new Uint8ClampedArray(4 * data.length) } as unknown as ImageData;
  paintHeatmap(image, { data, width: data.length, height: 1, stride: 16 });
  return image.data;
};

describe('paintHeatmap', () => {
  it('paints on one absolute scale: a flat, uncertain row stays dim instead of glowing at its own peak', () => {
    const flat = paint(new Float32Array(280).fill(1 / 280));
    const alpha = flat[3];
    expect(alpha).toBeLessThan(128);
    for (let k = 0; k < 280; k++) expect(flat[4 * k + 3]).toBe(alpha);
  });

  it('gives a probability the same colour in every map', () => {
    const weak = paint(Float32Array.from([0.2, 0.2, 0.2, 0.2, 0.2]));
    const strong = paint(Float32Array.from([0.2, 0.8, 0, 0, 0]));
    expect([...weak.subarray(0, 4)]).toEqual([...strong.subarray(0, 4)]);
    expect(strong[4 + 3]).toBeGreaterThan(weak[3]);
  });
});

describe('inkOn', () => {
  it('numbers light pins in black and dark pins in white', () => {
    expect(inkOn('#ffe119')).toBe('#000');
    expect(inkOn('#000075')).toBe('#fff');
  });
});
