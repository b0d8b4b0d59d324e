/**
 * How model.json (format mmnet-web/2) stores each tensor, and its decoding to float32.
 *
 * Filters are HWIO (transposed convolutions: H·W·out·in); "output channel" is the last axis and the
 * "input dimension" the other three flattened (K = H·W·I values per output channel). Byte layouts,
 * little-endian, each tensor starting at an even offset of the concatenated shards:
 *
 * - `float16`: the values, IEEE half.
 * - `int8`: one float16 scale per output channel (O), then the values as int8 in HWIO order;
 *   value = q · scale[o] (symmetric, q in −127…127).
 * - `int4`: per output channel, ⌈K / groupSize⌉ groups of consecutive input values (the last one
 *   shorter when groupSize does not divide K), each with a float16 scale, then as many float16
 *   offsets; then the codes, output-channel-major (o, k), two per byte, low nibble first;
 *   value = offset + q · scale (q in 0…15).
 *
 * int8 and int4 tensors are padded with zero bytes to an even length.
 */
export const SCHEMES = ['float16', 'int8', 'int4', 'mixed'] as const;
/** A weight storage scheme of `npm run models -- --quantize` (scripts/build/quantize.ts). */
export type Scheme = (typeof SCHEMES)[number];
/** What `npm run models` builds and the site ships: the smallest build within the accuracy rule of docs/accuracy.md "Weight storage". */
export const DEFAULT_SCHEME: Scheme = 'int4';

export type TensorStorage = { dtype: 'float16' } | { dtype: 'int8' } | { dtype: 'int4'; groupSize: number };

export interface StoredTensor {
  name: string;
  shape: number[];
  storage: TensorStorage;
}

const even = (n: number) => n + (n & 1);
const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
/** Output channels and input values per output channel (a 1-D tensor is one input row per value). */
const outIn = (shape: readonly number[]) => {
  const outputs = shape[shape.length - 1] ?? 1;
  return { outputs, inputs: count(shape) / outputs };
};
export const groupsPerChannel = (inputs: number, groupSize: number) => Math.ceil(inputs / groupSize);

/**
 * An int4 tensor's bytes: a float16 scale and offset per group of `groupSize` inputs of one output
 * channel, then the 4-bit codes, two a byte, in output-major order.
 */
export function int4Sections(bytes: Uint8Array, inputs: number, outputs: number, groupSize: number) {
  const groups = outputs * groupsPerChannel(inputs, groupSize);
  const halves = (offset: number) => new Uint16Array(bytes.buffer, bytes.byteOffset + offset, groups);
  return { scales: halves(0), offsets: halves(2 * groups), codes: bytes.subarray(4 * groups) };
}

/** Bytes one tensor takes in the shards. */
export function storedBytes(shape: readonly number[], storage: TensorStorage): number {
  const n = count(shape);
  const { outputs, inputs } = outIn(shape);
  switch (storage.dtype) {
    case 'float16':
      return 2 * n;
    case 'int8':
      return 2 * outputs + even(n);
    case 'int4':
      return 4 * outputs * groupsPerChannel(inputs, storage.groupSize) + even(Math.ceil(n / 2));
  }
}

let halfTable: Float32Array | undefined;
/** All 65536 half values as float32: one table lookup per value beats bit arithmetic in a hot loop. */
export function halfToFloat(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    halfTable[h] =
      exp === 0 ? sign * mant * 2 ** -24 : exp === 0x1f ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return halfTable;
}

/**
 * `dequantize` on another thread, writing `out`: a view of the wasm backend's heap, which only threaded wasm
 * shares between threads. Rejects when it cannot (the caller then decodes the tensor itself).
 */
export type DequantizeElsewhere = (bytes: Uint8Array, shape: readonly number[], storage: TensorStorage, out: Float32Array) => Promise<void>;

/**
 * One tensor's float32 values from its stored bytes, written to `out` (as many values as `shape` holds;
 * default a new array). `bytes` must start at an even offset of its buffer (the shards' concatenation
 * guarantees it) and hold exactly `storedBytes` bytes.
 */
export function dequantize(
  bytes: Uint8Array,
  shape: readonly number[],
  storage: TensorStorage,
  out: Float32Array<ArrayBufferLike> = new Float32Array(count(shape)),
): Float32Array<ArrayBufferLike> {
  const half = halfToFloat();
  const n = count(shape);
  const { outputs, inputs } = outIn(shape);
  const halves = (offset: number, length: number) => new Uint16Array(bytes.buffer, bytes.byteOffset + offset, length);
  switch (storage.dtype) {
    case 'float16': {
      const bits = halves(0, n);
      for (let i = 0; i < n; i++) out[i] = half[bits[i]];
      return out;
    }
    case 'int8': {
      const scaleBits = halves(0, outputs);
      const scales = new Float32Array(outputs);
      for (let o = 0; o < outputs; o++) scales[o] = half[scaleBits[o]];
      const q = new Int8Array(bytes.buffer, bytes.byteOffset + 2 * outputs, n);
      for (let row = 0, i = 0; row < inputs; row++) {
        for (let o = 0; o < outputs; o++, i++) out[i] = q[i] * scales[o];
      }
      return out;
    }
    case 'int4':
      dequantizeInt4(int4Sections(bytes, inputs, outputs, storage.groupSize), inputs, outputs, storage.groupSize, out);
      return out;
  }
}

/**
 * Output channels decoded together. The codes are stored output-major and the values input-major (HWIO),
 * so decoding one channel at a time writes with a stride of a whole row: a cache miss per value on a large
 * filter. A tile reads its channels' code rows side by side and writes each row of values in one run.
 */
const INT4_TILE = 32;

/** `dequantize`'s int4 case, into `out` (HWIO, `inputs` × `outputs`). */
function dequantizeInt4(
  { scales, offsets, codes }: ReturnType<typeof int4Sections>,
  inputs: number,
  outputs: number,
  groupSize: number,
  out: Float32Array<ArrayBufferLike>,
) {
  const half = halfToFloat();
  const groups = groupsPerChannel(inputs, groupSize);
  // Every group then starts on a byte: the two codes of a byte are two inputs of one channel.
  const paired = inputs % 2 === 0 && groupSize % 2 === 0;
  const scale = new Float32Array(INT4_TILE);
  const offset = new Float32Array(INT4_TILE);
  for (let o0 = 0; o0 < outputs; o0 += INT4_TILE) {
    const tile = Math.min(INT4_TILE, outputs - o0);
    for (let g = 0, start = 0; start < inputs; g++, start += groupSize) {
      const end = Math.min(start + groupSize, inputs);
      for (let j = 0; j < tile; j++) {
        scale[j] = half[scales[(o0 + j) * groups + g]];
        offset[j] = half[offsets[(o0 + j) * groups + g]];
      }
      if (paired) {
        for (let k = start; k < end; k += 2) {
          const row = k * outputs + o0;
          for (let j = 0, b = (o0 * inputs + k) >> 1; j < tile; j++, b += inputs >> 1) {
            const byte = codes[b];
            out[row + j] = offset[j] + (byte & 15) * scale[j];
            out[row + outputs + j] = offset[j] + (byte >> 4) * scale[j];
          }
        }
      } else {
        for (let k = start; k < end; k++) {
          const row = k * outputs + o0;
          for (let j = 0, i = o0 * inputs + k; j < tile; j++, i += inputs) {
            const byte = codes[i >> 1];
            out[row + j] = offset[j] + (i & 1 ? byte >> 4 : byte & 15) * scale[j];
          }
        }
      }
    }
  }
}
