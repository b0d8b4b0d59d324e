import { describe, expect, it } from 'vitest';
import { toHalfBits, transpose } from './npy';

describe('toHalfBits', () => {
  it.each([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [1e6, 0x7c00], // overflow → inf
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -26, 0x0000], // below half of it → 0
    [1 + 2 ** -11, 0x3c00], // tie → even
    [1 + 3 * 2 ** -11, 0x3c02], // tie → even (up)
    [0.1, 0x2e66],
  ])('%d → %s', (value, bits) => {
    expect(toHalfBits(Float32Array.of(value))[0]).toBe(bits);
  });
});

describe('transpose', () => {
  it('matches numpy transpose on a 2×3×4 array', () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i);
    const { data: out, shape } = transpose(data, [2, 3, 4], [2, 0, 1]);
    expect(shape).toEqual([4, 2, 3]);
    // out[k, i, j] = data[i, j, k]
    expect(out[0 * 6 + 1 * 3 + 2]).toBe(1 * 12 + 2 * 4 + 0);
    expect(out[3 * 6 + 0 * 3 + 1]).toBe(0 * 12 + 1 * 4 + 3);
  });
});
