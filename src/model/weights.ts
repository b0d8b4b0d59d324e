import * as tf from '@tensorflow/tfjs-core';
import { MMNetError } from './errors';
import { dequantize, storedBytes, type StoredTensor } from './quantization';
import { openShardCache, type ShardCache } from './shard-cache';
import { sha256Hex } from './sha256';
import type { LoadProgress } from './types';
import type { ScaleSpec } from './constants';

/** What `npm run models` writes beside the shards (scripts/build-models.ts). */
export interface ModelMetadata {
  format: 'mmnet-web/2';
  input: { height: number; width: number };
  featureChannels: number;
  scales: ScaleSpec[];
  rawTap: string;
  trunk: { name: string; source: string };
  head: { version: string; source: string };
  /** The scheme `npm run models -- --quantize` used; each tensor's storage is in `weights`. */
  quantization: 'float16' | 'int8' | 'int4' | 'mixed';
  shards: { path: string; bytes: number; sha256: string }[];
}

export interface ModelJson {
  metadata: ModelMetadata;
  /** The tensors in the order of their bytes in the concatenated shards. */
  weights: StoredTensor[];
}

export type WeightMap = Readonly<Record<string, tf.Tensor>>;

export interface LoadedWeights {
  metadata: ModelMetadata;
  weights: WeightMap;
  /** Every shard came from the browser's cache (no download). */
  fromCache: boolean;
}

type Fetch = (url: string) => Promise<Response>;

export interface WeightLoadOptions {
  fetch?: Fetch;
  onProgress?: (p: LoadProgress) => void;
  /** Cache Storage name for the model files (browsers only); omitted: no caching. */
  cacheName?: string;
}

/**
 * Fetches `model.json` and its shards under `baseUrl` (or takes them from the cache), checks every
 * shard's sha256 and decodes the weights to float32 tensors. Errors are `MMNetError('model-load')`
 * naming the file.
 */
export async function loadWeights(
  baseUrl: string,
  { fetch: fetchFn = (url) => fetch(url), onProgress, cacheName }: WeightLoadOptions = {},
): Promise<LoadedWeights> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const cache = cacheName ? await openShardCache(cacheName, base) : undefined;
  const { metadata, weights: stored } = await fetchModelJson(fetchFn, base, cache);
  const total = metadata.shards.reduce((sum, s) => sum + s.bytes, 0);
  let loaded = 0;
  let cached = 0;

  const shards: Uint8Array[] = [];
  for (const shard of metadata.shards) {
    const hit = await cache?.get(shard.sha256);
    const buffer =
      hit ??
      (await fetchBytes(fetchFn, base, shard.path, (n) => {
        loaded += n;
        onProgress?.({ loaded, total, file: shard.path, fromCache: false });
      }));
    if (buffer.byteLength !== shard.bytes) {
      throw new MMNetError('model-load', `${shard.path}: ${buffer.byteLength} bytes, expected ${shard.bytes}`, shard.path);
    }
    if ((await sha256Hex(buffer)) !== shard.sha256) {
      throw new MMNetError('model-load', `${shard.path}: sha256 mismatch (corrupted or stale file)`, shard.path);
    }
    if (hit) {
      cached++;
      loaded += hit.byteLength;
      onProgress?.({ loaded, total, file: shard.path, fromCache: true });
    } else {
      await cache?.put(shard.sha256, buffer);
    }
    shards.push(new Uint8Array(buffer));
  }
  await cache?.retain(metadata.shards.map((s) => s.sha256));

  return { metadata, weights: decodeWeights(new Uint8Array(concat(shards)), stored), fromCache: cached === metadata.shards.length };
}

/** float32 tensors from the shards' bytes, one pass over each tensor's bytes. */
function decodeWeights(bytes: Uint8Array, stored: readonly StoredTensor[]): WeightMap {
  const sizes = stored.map((t) => storedBytes(t.shape, t.storage));
  const expected = sizes.reduce((a, b) => a + b, 0);
  if (expected !== bytes.byteLength) {
    throw new MMNetError('model-load', `model.json: its tensors take ${expected} bytes, the shards hold ${bytes.byteLength}`, 'model.json');
  }
  const weights: Record<string, tf.Tensor> = {};
  let offset = 0;
  stored.forEach(({ name, shape, storage }, k) => {
    weights[name] = tf.tensor(dequantize(bytes.subarray(offset, offset + sizes[k]), shape, storage), shape, 'float32');
    offset += sizes[k];
  });
  return weights;
}

/** model.json from the network, else (offline) the copy cached by the last load. */
async function fetchModelJson(fetchFn: Fetch, base: string, cache?: ShardCache): Promise<ModelJson> {
  const url = `${base}model.json`;
  let text: string;
  try {
    text = new TextDecoder().decode(await fetchBytes(fetchFn, base, 'model.json'));
    await cache?.putText(url, text);
  } catch (e) {
    const cached = await cache?.getText(url);
    if (cached === undefined) throw e;
    text = cached;
  }
  return parseModelJson(text, 'model.json');
}

function parseModelJson(text: string, file: string): ModelJson {
  try {
    const json = JSON.parse(text) as ModelJson;
    if (json.metadata?.format !== 'mmnet-web/2' || !Array.isArray(json.weights)) throw new Error('not an mmnet-web/2 model (rebuild it with npm run models)');
    return json;
  } catch (e) {
    throw new MMNetError('model-load', `${file}: ${(e as Error).message}`, file);
  }
}

/** Reads a response body chunk by chunk so a progress bar can move during a 4 MB shard. */
async function fetchBytes(fetchFn: Fetch, base: string, file: string, onChunk?: (bytes: number) => void): Promise<ArrayBuffer> {
  let response: Response;
  try {
    response = await fetchFn(base + file);
  } catch (e) {
    throw new MMNetError('model-load', `${file}: ${(e as Error).message}`, file);
  }
  if (!response.ok) throw new MMNetError('model-load', `${file}: HTTP ${response.status}`, file);
  if (!response.body || !onChunk) return response.arrayBuffer();

  const chunks: Uint8Array[] = [];
  const reader = response.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    chunks.push(r.value);
    onChunk(r.value.byteLength);
  }
  return concat(chunks);
}

function concat(parts: Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out.buffer;
}

/** A weight by name; a missing one means model.json and the code disagree. */
export function weight<R extends tf.Rank>(weights: WeightMap, name: string): tf.Tensor<R> {
  const t = weights[name];
  if (!t) throw new MMNetError('model-load', `model.json has no tensor "${name}"`, 'model.json');
  return t as tf.Tensor<R>;
}
