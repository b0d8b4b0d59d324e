/** The weight loader's overlap with a starting backend: tensors made as their shards arrive. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { TEST_MODEL_DIR, TEST_SHIPPED_MODEL_DIR } from './testing/paths';
import { fileFetch, modelUrl } from './node/io';
import { selectBackend } from './backend';
import { dequantize, storedBytes, type DequantizeElsewhere } from './quantization';
import { decodeFetched, fetchWeights, type ModelJson, type WeightMap } from './weights';

/** Calls of `dequantize`, the decoder's included (counted through the module, which the decoder imports). */
const dequantized = vi.hoisted(() => ({ calls: 0 }));
vi.mock('./quantization', async (importOriginal) => {
  const original = await importOriginal<typeof import('./quantization')>();
  return {
    ...original,
    dequantize: (...args: Parameters<typeof original.dequantize>) => {
      dequantized.calls++;
      return original.dequantize(...args);
    },
  };
});

beforeAll(() => selectBackend({ backend: 'wasm' }));

/** fileFetch, holding the last shard back until `release` is called. */
function lastShardHeld() {
  let release = () => {};
  const held = new Promise<void>((done) => (release = done));
  const fetch = async (url: string) => {
    if (/shard(\d+)of\1\.bin$/.test(url)) await held;
    return fileFetch(url);
  };
  return { fetch, release: () => release() };
}

describe('fetchWeights with backendReady', () => {
  it('makes each tensor as its shards arrive, not after the last one', async () => {
    const before = tf.memory().numTensors;
    const network = lastShardHeld();
    const fetched = fetchWeights(modelUrl(TEST_MODEL_DIR), { fetch: network.fetch, backendReady: Promise.resolve() });
    await expect.poll(() => tf.memory().numTensors).toBeGreaterThan(before);
    const early = tf.memory().numTensors - before;
    network.release();
    const { stored, ...rest } = await fetched;
    const { weights } = await decodeFetched({ stored, ...rest });
    expect(early).toBeLessThan(stored.length);
    expect(Object.keys(weights)).toHaveLength(stored.length);
    expect(tf.memory().numTensors - before).toBe(stored.length);
    tf.dispose(Object.values(weights));
  });

  it('hands onTensors every tensor made so far, each time more are made', async () => {
    const network = lastShardHeld();
    const seen: number[] = [];
    let last: WeightMap = {};
    const fetched = fetchWeights(modelUrl(TEST_MODEL_DIR), {
      fetch: network.fetch,
      backendReady: Promise.resolve(),
      onTensors: (made) => {
        seen.push(Object.keys(made).length);
        last = made;
      },
    });
    await expect.poll(() => seen.length).toBeGreaterThan(0);
    const early = seen[seen.length - 1];
    network.release();
    const { weights } = await decodeFetched(await fetched);
    expect(early).toBeLessThan(Object.keys(weights).length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(Object.keys(last)).toHaveLength(Object.keys(weights).length);
    for (const [name, tensor] of Object.entries(weights)) expect(last[name]).toBe(tensor);
    tf.dispose(Object.values(weights));
  });

  it('lets the event loop run between slices while it makes the tensors (the same thread reads the shards)', async () => {
    let backendStarts = () => {};
    const backendReady = new Promise<void>((done) => (backendStarts = done));
    const fetched = await fetchWeights(modelUrl(TEST_MODEL_DIR), { fetch: fileFetch, backendReady });
    // Every shard is in and waits for the backend: its start sets every tensor to be made at once.
    let longestGap = 0;
    let ticking = true;
    const ticks = (async () => {
      for (let last = performance.now(); ticking;) {
        await new Promise((done) => setTimeout(done));
        longestGap = Math.max(longestGap, performance.now() - last);
        last = performance.now();
      }
    })();
    backendStarts();
    const { weights } = await decodeFetched(fetched);
    ticking = false;
    await ticks;
    expect(longestGap).toBeLessThan(150);
    tf.dispose(Object.values(weights));
  });

  it('leaves the thread to the starting backend: nothing is decoded before it is ready, each tensor once after', async () => {
    let backendStarts = () => {};
    const backendReady = new Promise<void>((done) => (backendStarts = done));
    dequantized.calls = 0;
    const fetched = await fetchWeights(modelUrl(TEST_MODEL_DIR), { fetch: fileFetch, backendReady });
    // Every shard is in: tasks enough for a decoder that did not wait to have run.
    for (let k = 0; k < 20; k++) await new Promise((done) => setTimeout(done));
    expect(dequantized.calls).toBe(0);
    backendStarts();
    const { weights } = await decodeFetched(fetched);
    expect(dequantized.calls).toBe(fetched.stored.length);
    tf.dispose(Object.values(weights));
  });

  it('holds every value of the stored bytes, decoded straight into the wasm heap', async () => {
    const files = await Promise.all(
      ((await (await fileFetch(`${modelUrl(TEST_SHIPPED_MODEL_DIR)}model.json`)).json()) as ModelJson).metadata.shards.map(
        async (s) => new Uint8Array(await (await fileFetch(modelUrl(TEST_SHIPPED_MODEL_DIR) + s.path)).arrayBuffer()),
      ),
    );
    const bytes = new Uint8Array(files.reduce((n, f) => n + f.length, 0));
    files.reduce((offset, f) => (bytes.set(f, offset), offset + f.length), 0);
    const fetched = await fetchWeights(modelUrl(TEST_SHIPPED_MODEL_DIR), { fetch: fileFetch, backendReady: Promise.resolve() });
    const { weights } = await decodeFetched(fetched);
    let offset = 0;
    const differing: string[] = [];
    for (const { name, shape, storage } of fetched.stored) {
      const size = storedBytes(shape, storage);
      const expected = dequantize(bytes.subarray(offset, offset + size), shape, storage);
      // Compared here, not by toEqual: its deep comparison takes minutes over 35 M values.
      if (weights[name].dataSync().some((v, i) => !Object.is(v, expected[i]))) differing.push(name);
      offset += size;
    }
    expect(differing).toEqual([]);
    tf.dispose(Object.values(weights));
  });

  it('frees the tensors it made when a shard fails', async () => {
    const before = tf.memory().numTensors;
    const fetch = async (url: string) => (/shard(\d+)of\1\.bin$/.test(url) ? new Response(null, { status: 404 }) : fileFetch(url));
    await expect(fetchWeights(modelUrl(TEST_MODEL_DIR), { fetch, backendReady: Promise.resolve() })).rejects.toThrow(/HTTP 404/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('fetchWeights with dequantizeElsewhere', () => {
  /** Stands in for the app's helper worker: decodes on the spot, answers when `answer` says (at once by default). */
  function helper(answer: (job: number) => Promise<void> | 'refuse' = () => Promise.resolve()) {
    const jobs: number[] = [];
    const dequantizeElsewhere: DequantizeElsewhere = async (bytes, shape, storage, out) => {
      const job = jobs.push(jobs.length) - 1;
      const reply = answer(job);
      if (reply === 'refuse') throw new Error('refused');
      dequantize(bytes, shape, storage, out);
      await reply;
    };
    return { jobs, dequantizeElsewhere };
  }
  const backendTensors = () => (tf.engine().backend as unknown as { numDataIds(): number }).numDataIds();

  /** The weights whose values differ (compared here: toEqual's deep comparison takes minutes over millions of values). */
  const differing = (a: WeightMap, b: WeightMap) =>
    Object.keys(a).filter((name) => {
      const [x, y] = [a[name].dataSync(), b[name]?.dataSync()];
      return y?.length !== x.length || x.some((v, i) => !Object.is(v, y[i]));
    });

  it('makes each tensor once it is decoded elsewhere, with the values decoding here gives', async () => {
    const here = await decodeFetched(await fetchWeights(modelUrl(TEST_MODEL_DIR), { fetch: fileFetch, backendReady: Promise.resolve() }));
    let answer = () => {};
    const answered = new Promise<void>((done) => (answer = done));
    const { jobs, dequantizeElsewhere } = helper(() => answered);
    let made = 0;
    dequantized.calls = 0;
    const fetched = await fetchWeights(modelUrl(TEST_MODEL_DIR), {
      fetch: fileFetch,
      backendReady: Promise.resolve(),
      dequantizeElsewhere,
      onTensors: (weights) => (made = Object.keys(weights).length),
    });
    await expect.poll(() => jobs.length).toBe(fetched.stored.length);
    expect(made).toBe(0);
    answer();
    const elsewhere = await decodeFetched(fetched);
    expect(made).toBe(fetched.stored.length);
    expect(dequantized.calls).toBe(fetched.stored.length);
    expect(elsewhere.timings.decodedElsewhere).toBe(fetched.stored.length);
    expect(differing(elsewhere.weights, here.weights)).toEqual([]);
    tf.dispose([...Object.values(here.weights), ...Object.values(elsewhere.weights)]);
  });

  it('decodes here what the helper refuses', async () => {
    const here = await decodeFetched(await fetchWeights(modelUrl(TEST_MODEL_DIR), { fetch: fileFetch, backendReady: Promise.resolve() }));
    const { dequantizeElsewhere } = helper((job) => (job % 2 === 0 ? 'refuse' : Promise.resolve()));
    const elsewhere = await decodeFetched(
      await fetchWeights(modelUrl(TEST_MODEL_DIR), { fetch: fileFetch, backendReady: Promise.resolve(), dequantizeElsewhere }),
    );
    expect(elsewhere.timings.decodedElsewhere).toBe(Math.floor(Object.keys(here.weights).length / 2));
    expect(differing(elsewhere.weights, here.weights)).toEqual([]);
    tf.dispose([...Object.values(here.weights), ...Object.values(elsewhere.weights)]);
  });

  it('gives back the memory of tensors still away when the load fails', async () => {
    const before = backendTensors();
    let answer = () => {};
    const answered = new Promise<void>((done) => (answer = done));
    const { jobs, dequantizeElsewhere } = helper(() => answered);
    const network = lastShardHeld();
    const fetched = fetchWeights(modelUrl(TEST_MODEL_DIR), {
      fetch: async (url: string) => {
        const response = await network.fetch(url);
        return /shard(\d+)of\1\.bin$/.test(url) ? new Response(null, { status: 404 }) : response;
      },
      backendReady: Promise.resolve(),
      dequantizeElsewhere,
    });
    await expect.poll(() => jobs.length).toBeGreaterThan(0);
    expect(backendTensors()).toBeGreaterThan(before);
    network.release();
    await expect(fetched).rejects.toThrow(/HTTP 404/);
    answer();
    await expect.poll(() => backendTensors()).toBe(before);
  });
});
