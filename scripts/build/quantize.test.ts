/** The weight storage: quantize (build) → bytes → dequantize (loader), alone and through loadWeights. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend';
import { MMNetError } from '../../src/model/errors';
import {
  dequantize,
  groupsPerChannel,
  halfToFloat,
  storedBytes,
  type StoredTensor,
  type TensorStorage,
} from '../../src/model/quantization';
import { sha256Hex } from '../../src/model/sha256';
import { loadWeights, type ModelJson } from '../../src/model/weights';
import { quantize, storageFor } from './quantize';

/** Deterministic pseudo-random values in [−1, 1) with a few outliers, like trained filters. */
function filter(shape: number[], seed = 1): Float32Array {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => next() * (i % 17 === 0 ? 3 : 0.5));
}

const roundTrip = (values: Float32Array, shape: number[], storage: TensorStorage) => {
  const bytes = quantize(values, shape, storage);
  expect(bytes.byteLength).toBe(storedBytes(shape, storage));
  expect(bytes.byteLength % 2).toBe(0);
  return { bytes, decoded: dequantize(bytes, shape, storage) };
};

describe('int8, one scale per output channel', () => {
  it.each([[[3, 3, 5, 7]], [[1, 1, 33, 1]], [[7, 7, 3, 5]]])('round-trips a %j filter within half a step of its channel', (shape) => {
    const values = filter(shape);
    const outputs = shape[3];
    const { bytes, decoded } = roundTrip(values, shape, { dtype: 'int8' });
    const scales = new Uint16Array(bytes.buffer, 0, outputs);
    const half = halfToFloat();
    values.forEach((v, i) => {
      const step = half[scales[i % outputs]];
      // The scale is float16-rounded, so the channel's largest value may sit up to 127 · (its rounding) off.
      expect(Math.abs(decoded[i] - v), `value ${i}`).toBeLessThanOrEqual(step / 2 + 127 * step * 2 ** -11);
    });
  });

  it('stores an all-zero channel as zeros', () => {
    const values = filter([1, 1, 4, 3]).map((v, i) => (i % 3 === 1 ? 0 : v));
    const { decoded } = roundTrip(values, [1, 1, 4, 3], { dtype: 'int8' });
    decoded.forEach((v, i) => i % 3 === 1 && expect(v).toBe(0));
  });
});

describe('int4, scale and offset per group of inputs', () => {
  it.each([
    // [shape, group size]: K = 37 inputs in groups of 8 (the last holds 5); an odd count of codes.
    [[1, 1, 37, 3], 8],
    [[3, 3, 5, 7], 32], // K = 45: one full group and one of 13
    [[1, 1, 64, 5], 32], // groups divide K
    [[2, 2, 3, 1], 64], // one group longer than K
  ])('round-trips a %j filter in groups of %i', (shape, groupSize) => {
    const values = filter(shape as number[], 7);
    const storage: TensorStorage = { dtype: 'int4', groupSize: groupSize as number };
    const { bytes, decoded } = roundTrip(values, shape as number[], storage);
    const outputs = (shape as number[])[3];
    const inputs = values.length / outputs;
    const perChannel = groupsPerChannel(inputs, groupSize as number);
    const groups = outputs * perChannel;
    const half = halfToFloat();
    const scales = new Uint16Array(bytes.buffer, 0, groups);
    const offsets = new Uint16Array(bytes.buffer, 2 * groups, groups);
    for (let i = 0; i < values.length; i++) {
      const [k, o] = [Math.floor(i / outputs), i % outputs];
      const g = o * perChannel + Math.floor(k / (groupSize as number));
      const [scale, lo] = [half[scales[g]], half[offsets[g]]];
      const hi = lo + 15 * scale;
      // Inside the (possibly clipped) range: within half a step; outside: the nearest end.
      const expected = Math.min(hi, Math.max(lo, values[i]));
      expect(Math.abs(decoded[i] - expected), `value ${i} (group ${g})`).toBeLessThanOrEqual(scale / 2 + 1e-6);
    }
  });

  it('packs the codes output-channel-major, two per byte, low nibble first', () => {
    // One output channel, three inputs on an exact 4-bit grid over [0, 1]: codes 0, 15, 7.
    const bytes = quantize(Float32Array.of(0, 1, 7 / 15), [1, 1, 3, 1], { dtype: 'int4', groupSize: 32 });
    expect([...bytes.subarray(4)]).toEqual([0xf0, 0x07]);
    // Two output channels (HWIO: inputs × outputs): channel 0 = [0, 1], channel 1 = [1, 0].
    const two = quantize(Float32Array.of(0, 1, 1, 0), [1, 1, 2, 2], { dtype: 'int4', groupSize: 32 });
    expect([...two.subarray(8)]).toEqual([0xf0, 0x0f]);
  });

  it('searches the clipping range: never worse than the full range of each group', () => {
    const shape = [3, 3, 16, 4];
    const values = filter(shape, 3);
    const { decoded } = roundTrip(values, shape, { dtype: 'int4', groupSize: 16 });
    // The plain grid over [min, max] of each group of 16 consecutive inputs.
    let plain = 0;
    let searched = 0;
    for (let o = 0; o < 4; o++) {
      for (let start = 0; start < 144; start += 16) {
        const group = Array.from({ length: 16 }, (_, k) => (start + k) * 4 + o);
        const min = Math.min(...group.map((i) => values[i]));
        const step = (Math.max(...group.map((i) => values[i])) - min) / 15;
        for (const i of group) {
          plain += (min + Math.round((values[i] - min) / step) * step - values[i]) ** 2;
          searched += (decoded[i] - values[i]) ** 2;
        }
      }
    }
    expect(searched).toBeLessThan(plain);
  });
});

describe('storage per scheme', () => {
  it('keeps biases and small filters float16', () => {
    for (const scheme of ['int8', 'int4', 'mixed'] as const) {
      expect(storageFor(scheme, 'block3_unit_5_bottleneck_v2_conv1_Conv2D_bias', [256])).toEqual({ dtype: 'float16' });
      expect(storageFor(scheme, 'fuse.1.weight', [3, 3, 42, 21])).toEqual({ dtype: 'float16' });
    }
    expect(storageFor('float16', 'block3_unit_5_bottleneck_v2_conv2_weights', [3, 3, 256, 256])).toEqual({ dtype: 'float16' });
  });

  it('mixed: 8 bits for the layers of scales 1–2, 4 bits for the deep trunk', () => {
    expect(storageFor('mixed', 'block1_unit_2_bottleneck_v2_conv2_weights', [3, 3, 64, 64]).dtype).toBe('int8');
    expect(storageFor('mixed', 'ms.block2_unit1.conv.weight', [3, 3, 512, 32]).dtype).toBe('int8');
    expect(storageFor('mixed', 'block3_unit_9_bottleneck_v2_conv2_weights', [3, 3, 256, 256]).dtype).toBe('int4');
  });
});

describe('loadWeights on a quantized model', () => {
  const tensors: { name: string; shape: number[]; storage: TensorStorage }[] = [
    { name: 'int8 odd', shape: [3, 3, 5, 7], storage: { dtype: 'int8' } },
    { name: 'int4 ragged groups', shape: [1, 1, 37, 3], storage: { dtype: 'int4', groupSize: 8 } },
    { name: 'bias', shape: [3], storage: { dtype: 'float16' } },
  ];
  const values = tensors.map((t, k) => filter(t.shape, k + 1));
  const parts = tensors.map((t, k) => quantize(values[k], t.shape, t.storage));
  const blob = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((offset, p) => (blob.set(p, offset), offset + p.byteLength), 0);
  // Two shards, split at an odd byte: a tensor may straddle shards.
  const shardBytes = [blob.subarray(0, 101), blob.subarray(101)];

  async function serve(corrupt = false) {
    const shards = await Promise.all(
      shardBytes.map(async (bytes, k) => ({
        path: `group1-shard${k + 1}of2.bin`,
        bytes: bytes.byteLength,
        sha256: await sha256Hex(bytes.slice().buffer),
      })),
    );
    const model = {
      metadata: { format: 'mmnet-web/2', quantization: 'mixed', shards },
      weights: tensors satisfies StoredTensor[],
    } as unknown as ModelJson;
    return async (url: string) => {
      const file = url.slice(url.lastIndexOf('/') + 1);
      if (file === 'model.json') return new Response(JSON.stringify(model));
      const bytes = shardBytes[Number(/shard(\d)/.exec(file)![1]) - 1].slice();
      if (corrupt && file === 'group1-shard2of2.bin') bytes[5] ^= 0x10;
      return new Response(bytes);
    };
  }

  beforeAll(() => selectBackend({ backend: 'cpu' }));

  it('decodes every tensor as dequantize does', async () => {
    const { weights } = await loadWeights('mem://model/', { fetch: await serve() });
    for (const [k, t] of tensors.entries()) {
      expect(weights[t.name].shape).toEqual(t.shape);
      expect(await weights[t.name].data()).toEqual(dequantize(parts[k], t.shape, t.storage));
    }
    tf.dispose(Object.values(weights));
  });

  it('names a corrupted shard in a model-load error', async () => {
    const error = await loadWeights('mem://model/', { fetch: await serve(true) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MMNetError);
    expect(error).toMatchObject({ code: 'model-load', file: 'group1-shard2of2.bin' });
    expect((error as Error).message).toMatch(/group1-shard2of2\.bin: sha256 mismatch/);
  });
});
