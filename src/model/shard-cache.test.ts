/** Cache Storage of model files, against an in-memory stand-in for the browser's `caches`. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MODEL_DIR } from './testing/paths';
import { fileFetch, modelUrl } from './node/io';
import { selectBackend } from './backend';
import { sha256Hex } from './sha256';
import { loadWeights } from './weights';

class MemoryCache {
  readonly entries = new Map<string, ArrayBuffer>();
  async match(key: string) {
    const body = this.entries.get(key);
    return body && new Response(body.slice(0));
  }
  async put(key: string, response: Response) {
    this.entries.set(key, await response.arrayBuffer());
  }
  async keys() {
    return [...this.entries.keys()].map((url) => ({ url }));
  }
  async delete(request: { url: string }) {
    return this.entries.delete(request.url);
  }
}

const cache = new MemoryCache();
beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
  (globalThis as { caches?: unknown }).caches = { open: async () => cache };
});
afterAll(() => delete (globalThis as { caches?: unknown }).caches);

/** fileFetch, counting requests and optionally failing every one (offline). */
function network(offline = false) {
  const requests: string[] = [];
  const fetch = async (url: string) => {
    requests.push(url.slice(url.lastIndexOf('/') + 1));
    if (offline) throw new TypeError('Failed to fetch');
    return fileFetch(url);
  };
  return { fetch, requests };
}

async function load(fetch: (url: string) => Promise<Response>) {
  const progress: boolean[] = [];
  const { weights, fromCache, metadata, timings } = await loadWeights(modelUrl(TEST_MODEL_DIR), {
    fetch,
    cacheName: 'test',
    onProgress: (p) => progress.push(p.fromCache),
  });
  tf.dispose(Object.values(weights));
  return { fromCache, metadata, progress, timings };
}

describe('shard cache', () => {
  it('downloads once, then loads from the cache, even offline', async () => {
    const first = network();
    const cold = await load(first.fetch);
    expect(cold.fromCache).toBe(false);
    expect(first.requests).toHaveLength(1 + cold.metadata.shards.length);

    const offline = network(true);
    const warm = await load(offline.fetch);
    expect(warm.fromCache).toBe(true);
    expect(warm.progress.every(Boolean)).toBe(true);
    expect(offline.requests).toEqual(['model.json']); // tried, failed, served from the cache
    // Downloaded shards are hashed; cached ones were verified before they were stored.
    expect(cold.timings.hashMs).toBeGreaterThan(0);
    expect(warm.timings.hashMs).toBe(0);
  });

  it('replaces the entries of a rebuilt model (new hashes)', async () => {
    // A "rebuilt" model: one shard's bytes differ, and model.json names its new hash.
    const { metadata } = await load(network().fetch);
    const shard = metadata.shards[4];
    const rebuilt = new Uint8Array(await (await fileFetch(modelUrl(TEST_MODEL_DIR) + shard.path)).arrayBuffer());
    rebuilt[0] ^= 1;
    const newHash = await sha256Hex(rebuilt.buffer);
    const fetch = async (url: string) => {
      if (url.endsWith(shard.path)) return new Response(rebuilt);
      const r = await fileFetch(url);
      return url.endsWith('model.json') ? new Response((await r.text()).replace(shard.sha256, newHash)) : r;
    };

    const reload = await load(fetch);
    expect(reload.fromCache).toBe(false);
    const keys = [...cache.entries.keys()].filter((k) => k.includes('/sha256/'));
    expect(keys).toHaveLength(metadata.shards.length);
    expect(keys.some((k) => k.endsWith(newHash))).toBe(true);
    expect(keys.some((k) => k.endsWith(shard.sha256))).toBe(false);
  });
});
