/** The int4 decoder against the plain per-value rule it replaces (a tiled loop must not change a value). */
import { describe, expect, it } from 'vitest';
import { dequantize, halfToFloat, int4Sections, storedBytes, type TensorStorage } from './quantization';

/** Stored bytes of `shape` filled pseudo-randomly; scales and offsets are random halves of small magnitude. */
function randomInt4(shape: number[], groupSize: number, seed: number) {
  const storage: TensorStorage = { dtype: 'int4', groupSize };
  const bytes = new Uint8Array(storedBytes(shape, storage));
  let s = seed;
  for (let i = 0; i < bytes.length; i++) bytes[i] = (s = (s * 1103515245 + 12345) % 2 ** 31) >> 16;
  const outputs = shape[shape.length - 1];
  const { scales, offsets } = int4Sections(bytes, shape.reduce((a, b) => a * b, 1) / outputs, outputs, groupSize);
  // Exponent 10–17 with either sign: finite values around 2^-5…2^2, as trained filters have.
  for (const halves of [scales, offsets]) halves.forEach((h, k) => (halves[k] = (h & 0x83ff) | ((10 + (h % 8)) << 10)));
  return { bytes, storage };
}

/** value = offset + q · scale, one value at a time, as the format's comment states it. */
function reference(bytes: Uint8Array, shape: number[], groupSize: number): Float32Array {
  const half = halfToFloat();
  const outputs = shape[shape.length - 1];
  const inputs = shape.reduce((a, b) => a * b, 1) / outputs;
  const { scales, offsets, codes } = int4Sections(bytes, inputs, outputs, groupSize);
  const groups = Math.ceil(inputs / groupSize);
  const out = new Float32Array(inputs * outputs);
  for (let o = 0; o < outputs; o++) {
    for (let k = 0; k < inputs; k++) {
      const i = o * inputs + k;
      const g = o * groups + Math.floor(k / groupSize);
      out[k * outputs + o] = half[offsets[g]] + (i & 1 ? codes[i >> 1] >> 4 : codes[i >> 1] & 15) * half[scales[g]];
    }
  }
  return out;
}

describe('dequantize, int4', () => {
  it.each([
    [[3, 3, 64, 96], 32], // the shipped layout: even inputs and groups, outputs a multiple of the tile
    [[1, 1, 1024, 70], 32], // outputs not a multiple of the tile
    [[1, 1, 37, 3], 8], // odd inputs: a byte holds codes of two channels
    [[3, 3, 5, 33], 7], // odd group size: groups start mid-byte
    [[2, 2, 3, 1], 64], // one group longer than the inputs
    [[5], 32], // a 1-D tensor: one input per output
  ])('gives the per-value rule’s every value for a %j tensor in groups of %i', (shape, groupSize) => {
    const { bytes, storage } = randomInt4(shape, groupSize, shape.length * 31 + groupSize);
    expect(dequantize(bytes, shape, storage)).toEqual(reference(bytes, shape, groupSize));
  });

  it('writes into the array it is given', () => {
    const shape = [1, 1, 40, 36];
    const { bytes, storage } = randomInt4(shape, 32, 5);
    const out = new Float32Array(40 * 36);
    expect(dequantize(bytes, shape, storage, out)).toBe(out);
    expect(out).toEqual(reference(bytes, shape, 32));
  });
});
