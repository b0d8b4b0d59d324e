import { halfToFloat } from '../../src/model/quantization';

/** A tiny reader for the `.npy` files of ../shared/models (little-endian float16/float32, C order). */
export interface NpyArray {
  dtype: 'float16' | 'float32';
  shape: number[];
  /** float16 as raw half bits, float32 as values. */
  data: Uint16Array | Float32Array;
}

const MAGIC = '\x93NUMPY';

export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const fail = (why: string): never => {
    throw new Error(`${file}: ${why}`);
  };
  if (String.fromCharCode(...bytes.subarray(0, 6)) !== MAGIC) fail('not a .npy file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));

  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`unreadable header ${header.trim()}`);
  if (fortran === 'True') fail('Fortran-order arrays are not supported');
  const dtype = descr === '<f2' ? 'float16' : descr === '<f4' ? 'float32' : fail(`dtype ${descr} (expected <f2 or <f4)`);
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);

  const count = shape.reduce((a, b) => a * b, 1);
  const itemSize = dtype === 'float16' ? 2 : 4;
  const start = headerStart + headerLength;
  if (bytes.byteLength - start !== count * itemSize) fail(`${bytes.byteLength - start} data bytes for shape [${shape}] of ${dtype}`);
  // Copy into a fresh, aligned buffer: the header length need not be a multiple of the item size
  // (and a Node Buffer's slice() is a view of a shared pool, not a copy).
  const raw = Uint8Array.prototype.slice.call(bytes, start).buffer;
  return { dtype, shape, data: dtype === 'float16' ? new Uint16Array(raw) : new Float32Array(raw) };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One float → IEEE half bits, round to nearest even (as numpy's astype(float16)). */
export function halfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  const rest = mant & 0x1fff;
  let h = sign | (e << 10) | (mant >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return h;
}

/** A float32 `.npy` file (C order). */
export function float32Npy(values: Float32Array, shape: readonly number[]): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11) + '\n';
  const prefix = Buffer.concat([
    Buffer.from('\x93NUMPY\x01\x00', 'latin1'),
    Buffer.from(Uint16Array.of(header.length).buffer),
    Buffer.from(header, 'latin1'),
  ]);
  return Buffer.concat([prefix, Buffer.from(values.buffer, values.byteOffset, values.byteLength)]);
}

/** float32 values → IEEE half bits. */
export function toHalfBits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfBits(values[i]);
  return out;
}

/** Reorders a C-order array: out[perm-ed index] = in[index], like numpy's transpose(perm). */
export function transpose<T extends Uint16Array | Float32Array>(data: T, shape: number[], perm: number[]): { data: T; shape: number[] } {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const stridesInOutOrder = perm.map((p) => inStrides[p]);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const index = new Array(outShape.length).fill(0);
  for (let o = 0; o < data.length; o++) {
    let src = 0;
    for (let d = 0; d < index.length; d++) src += index[d] * stridesInOutOrder[d];
    out[o] = data[src];
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < outShape[d]) break;
      index[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** IEEE half bits → float32 values. */
export function fromHalfBits(bits: Uint16Array): Float32Array {
  const half = halfToFloat();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = half[bits[i]];
  return out;
}
