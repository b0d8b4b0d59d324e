/** The weight loader's overlap with a starting backend: tensors made as their shards arrive. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_MODEL_DIR, TEST_SHIPPED_MODEL_DIR } from './testing/paths';
import { fileFetch, modelUrl } from './node/io';
import { selectBackend } from './backend';
import { dequantize, storedBytes } from './quantization';
import {
  decodeFetched,
  fetchWeights,
  PARALLEL_DOWNLOADS,
  RANGE_BYTES,
  WHOLE_FILES_AT_ONCE,
  type ModelJson,
  type WeightMap,
} from './weights';

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

/** Shard files in their number's order (group1-shard2of18.bin before group1-shard10of18.bin). */
const byShardNumber = (a: string, b: string) => Number(/shard(\d+)of/.exec(a)![1]) - Number(/shard(\d+)of/.exec(b)![1]);

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
    // Every tensor is decoded and waits for the backend: its start sets them all to be made at once.
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

  it.each([
    ['decoded straight into the wasm heap (backend ready first)', Promise.resolve()],
    // A backend that has not started when the shards are in: the decoder's arrays are made tensors at the end.
    ['decoded before the backend started, then copied', new Promise<void>(() => {})],
  ])('holds every value of the stored bytes, %s', async (_, backendReady) => {
    const files = await Promise.all(
      ((await (await fileFetch(`${modelUrl(TEST_SHIPPED_MODEL_DIR)}model.json`)).json()) as ModelJson).metadata.shards.map(
        async (s) => new Uint8Array(await (await fileFetch(modelUrl(TEST_SHIPPED_MODEL_DIR) + s.path)).arrayBuffer()),
      ),
    );
    const bytes = new Uint8Array(files.reduce((n, f) => n + f.length, 0));
    files.reduce((offset, f) => (bytes.set(f, offset), offset + f.length), 0);
    const fetched = await fetchWeights(modelUrl(TEST_SHIPPED_MODEL_DIR), { fetch: fileFetch, backendReady });
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

  it("downloads byte ranges, PARALLEL_DOWNLOADS at a time, in the shards' order, so that each shard is whole early", async () => {
    const asked: { file: string; from: number; to: number }[] = [];
    let inFlight = 0;
    let most = 0;
    const fetch = async (url: string, init?: RequestInit) => {
      const range = new Headers(init?.headers).get('Range');
      if (!url.endsWith('.bin') || !range) return fileFetch(url);
      const [from, to] = /^bytes=(\d+)-(\d+)$/.exec(range)!.slice(1).map(Number);
      asked.push({ file: url.slice(url.lastIndexOf('/') + 1), from, to });
      most = Math.max(most, ++inFlight);
      const body = new Uint8Array(await (await fileFetch(url)).arrayBuffer()).slice(from, to + 1);
      await new Promise((done) => setTimeout(done, 5));
      inFlight--;
      return new Response(body, { status: 206 });
    };
    const fetched = await fetchWeights(modelUrl(TEST_MODEL_DIR), { fetch, backendReady: Promise.resolve() });
    const { weights } = await decodeFetched(fetched);
    expect(most).toBe(PARALLEL_DOWNLOADS);
    // Every shard asked for in RANGE_BYTES pieces that tile it, the shards one after another.
    for (const { path, bytes } of fetched.metadata.shards) {
      const mine = asked.filter((a) => a.file === path);
      expect(mine.map((a) => a.from)).toEqual(Array.from({ length: Math.ceil(bytes / RANGE_BYTES) }, (_, k) => k * RANGE_BYTES));
      expect(mine.at(-1)!.to).toBe(bytes - 1);
    }
    expect(fetched.metadata.shards.length).toBeGreaterThan(1);
    expect(asked.map((a) => a.file)).toEqual([...asked.map((a) => a.file)].sort(byShardNumber));
    tf.dispose(Object.values(weights));
  });

  it('downloads each shard once, whole and WHOLE_FILES_AT_ONCE at a time, from a server that ignores ranges', async () => {
    const asked: string[] = [];
    let inFlight = 0;
    let most = 0;
    const fetch = async (url: string) => {
      if (!url.endsWith('.bin')) return fileFetch(url);
      asked.push(url.slice(url.lastIndexOf('/') + 1));
      most = Math.max(most, ++inFlight);
      const response = await fileFetch(url);
      await new Promise((done) => setTimeout(done, 5));
      inFlight--;
      return response;
    };
    const fetched = await fetchWeights(modelUrl(TEST_MODEL_DIR), { fetch, backendReady: Promise.resolve() });
    const { weights } = await decodeFetched(fetched);
    expect(asked).toEqual(fetched.metadata.shards.map((s) => s.path));
    expect(most).toBe(WHOLE_FILES_AT_ONCE);
    tf.dispose(Object.values(weights));
  });

  it('rejects a range answered with the wrong number of bytes', async () => {
    const fetch = async (url: string, init?: RequestInit) => {
      if (!url.endsWith('.bin') || !new Headers(init?.headers).get('Range')) return fileFetch(url);
      return new Response(new Uint8Array(10), { status: 206 });
    };
    await expect(fetchWeights(modelUrl(TEST_MODEL_DIR), { fetch, backendReady: Promise.resolve() })).rejects.toThrow(
      /10 bytes for the range 0–/,
    );
  });

  it('frees the tensors it made when a shard fails', async () => {
    const before = tf.memory().numTensors;
    const fetch = async (url: string) => (/shard(\d+)of\1\.bin$/.test(url) ? new Response(null, { status: 404 }) : fileFetch(url));
    await expect(fetchWeights(modelUrl(TEST_MODEL_DIR), { fetch, backendReady: Promise.resolve() })).rejects.toThrow(/HTTP 404/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
