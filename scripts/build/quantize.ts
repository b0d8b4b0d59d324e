/**
 * Encodes weights into the storage of src/model/quantization.ts, and picks each tensor's storage for
 * a quantization scheme of `npm run models -- --quantize`.
 */
import { DEFAULT_SCHEME, halfToFloat, int4Sections, storedBytes, type Scheme, type TensorStorage } from '../../src/model/quantization';
import { halfBits, toHalfBits } from './npy';

/** The scheme `npm run models` builds without --quantize: $MMNET_QUANTIZE, else DEFAULT_SCHEME. */
export const defaultScheme = (): Scheme => (process.env.MMNET_QUANTIZE as Scheme | undefined) ?? DEFAULT_SCHEME;

/** Inputs per 4-bit group: 32 costs 0.625 bytes per weight (64: 0.5625) and loses less at the fine scales. */
const INT4_GROUP = 32;
/**
 * Filters smaller than this stay float16: conv1, the MS blocks' dilated 32→32 convs, attention,
 * up-sampling and fuse layers, 0.9 M values (1.8 MB) that the matching maps pass through last.
 */
const MIN_QUANTIZED = 16384;

/**
 * Filters `mixed` keeps at 8 bits, from `npx tsx scripts/eval/quant-sensitivity.ts` (output error of
 * G_1…G_4 on Caltech-101 calibration photos when one group of layers goes to 4 bits): the trunk of
 * blocks 1–2 and the head's MS blocks on their taps feed scales 1–2 and cost little at 8 bits.
 */
const MIXED_INT8 = [/^block[12]_/, /^ms\.block[12]_/];

/** How `scheme` stores the tensor `name` (HWIO shape). */
export function storageFor(scheme: Scheme, name: string, shape: readonly number[]): TensorStorage {
  const quantizable = shape.length === 4 && shape.reduce((a, b) => a * b, 1) >= MIN_QUANTIZED;
  if (scheme === 'float16' || !quantizable) return { dtype: 'float16' };
  if (scheme === 'int8' || (scheme === 'mixed' && MIXED_INT8.some((r) => r.test(name)))) return { dtype: 'int8' };
  return { dtype: 'int4', groupSize: INT4_GROUP };
}

const half = halfToFloat();
/** The float16 value nearest to x. */
const toHalf = (x: number) => half[halfBits(x)];

/** float32 values (HWIO, last axis = output channels) → the bytes `storage` describes. */
export function quantize(values: Float32Array, shape: readonly number[], storage: TensorStorage): Uint8Array {
  const out = new Uint8Array(storedBytes(shape, storage));
  const outputs = shape[shape.length - 1] ?? 1;
  const inputs = values.length / outputs;
  const halves = (offset: number, length: number) => new Uint16Array(out.buffer, offset, length);
  switch (storage.dtype) {
    case 'float16':
      halves(0, values.length).set(toHalfBits(values));
      return out;
    case 'int8': {
      const absmax = new Float32Array(outputs);
      for (let i = 0; i < values.length; i++) absmax[i % outputs] = Math.max(absmax[i % outputs], Math.abs(values[i]));
      const scaleBits = halves(0, outputs);
      const scales = new Float32Array(outputs);
      for (let o = 0; o < outputs; o++) {
        scaleBits[o] = halfBits(absmax[o] / 127);
        scales[o] = half[scaleBits[o]];
      }
      const q = new Int8Array(out.buffer, 2 * outputs, values.length);
      for (let i = 0; i < values.length; i++) {
        const s = scales[i % outputs];
        q[i] = s > 0 ? Math.max(-127, Math.min(127, Math.round(values[i] / s))) : 0;
      }
      return out;
    }
    case 'int4': {
      const { groupSize } = storage;
      const { scales, offsets, codes } = int4Sections(out, inputs, outputs, groupSize);
      const group = new Float32Array(groupSize);
      let g = 0;
      for (let o = 0; o < outputs; o++) {
        for (let start = 0; start < inputs; start += groupSize, g++) {
          const length = Math.min(groupSize, inputs - start);
          for (let k = 0; k < length; k++) group[k] = values[(start + k) * outputs + o];
          const { scale, offset } = clippedRange(group.subarray(0, length));
          scales[g] = halfBits(scale);
          offsets[g] = halfBits(offset);
          const s = half[scales[g]];
          const m = half[offsets[g]];
          for (let k = 0, i = o * inputs + start; k < length; k++, i++) {
            const q = code(group[k], s, m);
            codes[i >> 1] |= i & 1 ? q << 4 : q;
          }
        }
      }
      return out;
    }
  }
}

const code = (value: number, scale: number, offset: number) =>
  scale > 0 ? Math.max(0, Math.min(15, Math.round((value - offset) / scale))) : 0;

/** Shrink factors tried for each end of a group's range. */
const CLIP_STEPS = [1, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6];

/**
 * The 4-bit grid (offset + q · scale, float16-rounded as stored) of least squared error over the
 * group: clipping the extremes trades a large error on a rare value for a finer step on all others.
 * Searched jointly first, then each end alone.
 */
function clippedRange(values: Float32Array): { scale: number; offset: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const grid = (a: number, b: number) => {
    const lo = min < 0 ? min * a : min;
    const hi = max > 0 ? max * b : max;
    return { scale: toHalf((hi - lo) / 15), offset: toHalf(lo) };
  };
  const error = ({ scale, offset }: { scale: number; offset: number }) => {
    let sum = 0;
    for (const v of values) {
      const d = offset + code(v, scale, offset) * scale - v;
      sum += d * d;
    }
    return sum;
  };
  let best = { a: 1, b: 1, error: error(grid(1, 1)) };
  const tryGrid = (a: number, b: number) => {
    const e = error(grid(a, b));
    if (e < best.error) best = { a, b, error: e };
  };
  for (const c of CLIP_STEPS) tryGrid(c, c);
  const joint = best;
  for (const c of CLIP_STEPS) tryGrid(c, joint.b);
  for (const c of CLIP_STEPS) tryGrid(best.a, c);
  return grid(best.a, best.b);
}
