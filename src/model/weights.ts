import * as tf from '@tensorflow/tfjs-core';
import pLimit from 'p-limit';
import { filledTensor } from './backend';
import { MMNetError } from './errors';
import { dequantize, storedBytes, type StoredTensor } from './quantization';
import { openShardCache, type ShardCache } from './shard-cache';
import { sha256Hex } from './sha256';
import type { LoadProgress, LoadTimings } from './types';
import type { ScaleSpec } from './constants';
import type { ConfidenceCalibration } from './confidence';
import type { ConsensusConstants, LocalConstants } from './consensus';
import type { HyperpixelConstants } from './hyperpixels';
import type { TransferConstants } from './transfer';

/** What `match` does when not told, and the consensus constants (chosen on the selection split). */
export interface MatchingDefaults extends ConsensusConstants, LocalConstants, TransferConstants {
  consensus: boolean;
  mirror: boolean;
  /** Place points by keypoint transfer (`MatchOptions.transfer`). */
  transfer: boolean;
  /** The hyperpixels' taps and constants (`encode(…, { hyperpixels: true })`, mode `hyper`). */
  hyperpixels?: HyperpixelConstants;
}

/** What `npm run models` writes beside the shards (scripts/build/build-models.ts). */
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
  /** The matching defaults and consensus constants (models/matching.json). */
  matching: MatchingDefaults;
  shards: { path: string; bytes: number; sha256: string }[];
  /** The calibrator of `Match.confidence` (models/confidence.json); absent in older builds. */
  confidence?: ConfidenceCalibration;
}

export interface ModelJson {
  metadata: ModelMetadata;
  /** The tensors in the order of their bytes in the concatenated shards. */
  weights: StoredTensor[];
}

export type WeightMap = Readonly<Record<string, tf.Tensor>>;

/** The weights, verified and decoded to float32 (made into tensors once `WeightLoadOptions.backendReady` settled). */
export interface FetchedWeights {
  metadata: ModelMetadata;
  stored: StoredTensor[];
  /**
   * Every stored tensor, in `stored`'s order, on the current backend: those made as their shards arrived
   * (once `WeightLoadOptions.backendReady` had settled) and the rest made now. Called once.
   */
  tensors: () => Promise<tf.Tensor[]>;
  /** Every shard came from the browser's cache (no download). */
  fromCache: boolean;
  timings: Pick<LoadTimings, 'fetchMs' | 'hashMs'>;
  /** Settles once downloaded shards are in Cache Storage and stale ones are gone (never rejects: caching is best effort). */
  cached: Promise<void>;
}

export interface LoadedWeights {
  metadata: ModelMetadata;
  weights: WeightMap;
  /** Every shard came from the browser's cache (no download). */
  fromCache: boolean;
  timings: Omit<LoadTimings, 'backendMs' | 'totalMs'>;
}

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;
type Shard = ModelMetadata['shards'][number];

/**
 * Byte ranges downloaded at once, in the shards' order, each `RANGE_BYTES` long. A shard is used only once it
 * is whole and verified, so on a slow link each should be whole as early as possible, to be decoded (and its
 * convolutions warmed) while the next ones download. Whole shards four at once (until round 5) finished
 * together, and all their work waited for the end; two at a time fetched 1 s slower under DevTools' 50 Mbit/s
 * throttle, which gives each request a share that grows with the number of requests. Four ranges of 1 MiB
 * keep both: the shards come whole one after another, and the link as busy as six whole ones
 * (docs/first-screen.md, ninth round).
 */
export const PARALLEL_DOWNLOADS = 4;
export const RANGE_BYTES = 2 ** 20;
/** Whole shards at once from a server that does not answer ranges: two fetched nearly as fast as four, and left 0.2 s of decoding after the last byte. */
export const WHOLE_FILES_AT_ONCE = 2;

export interface WeightLoadOptions {
  fetch?: Fetch;
  onProgress?: (p: LoadProgress) => void;
  /** Cache Storage name for the model files (browsers only); omitted: no caching. */
  cacheName?: string;
  /**
   * Settles once the backend the weights belong on is the current one: from then on each tensor is made
   * as its shards arrive, so that work overlaps the download instead of following it.
   */
  backendReady?: Promise<unknown>;
  /** Called with every tensor made so far, each time more are made (as their shards arrive, once the backend is ready). */
  onTensors?: (made: WeightMap, metadata: ModelMetadata) => void;
}

/**
 * Fetches `model.json` and its shards under `baseUrl` (or takes them from the cache), checks every
 * shard's sha256 and decodes the weights to float32 tensors. Errors are `MMNetError('model-load')`
 * naming the file.
 */
export async function loadWeights(baseUrl: string, options: WeightLoadOptions = {}): Promise<LoadedWeights> {
  return decodeFetched(await fetchWeights(baseUrl, options));
}

/** The model's metadata alone (model.json, a few kB): what matching needs, long before the weights arrive. */
export async function loadMetadata(
  baseUrl: string,
  { fetch: fetchFn = (url, init) => fetch(url, init) }: Pick<WeightLoadOptions, 'fetch'> = {},
) {
  return (await fetchModelJson(fetchFn, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`)).metadata;
}

/** `loadWeights`' first half: the verified bytes (runs while a backend starts). */
export async function fetchWeights(
  baseUrl: string,
  { fetch: fetchFn = (url, init) => fetch(url, init), onProgress, cacheName, backendReady, onTensors }: WeightLoadOptions = {},
): Promise<FetchedWeights> {
  const start = performance.now();
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const cache = cacheName ? await openShardCache(cacheName, base) : undefined;
  const { metadata, weights: stored } = await fetchModelJson(fetchFn, base, cache);
  const total = metadata.shards.reduce((sum, s) => sum + s.bytes, 0);
  const decoder = progressiveDecoder(metadata.shards, stored, total, onTensors && ((made) => onTensors(made, metadata)));
  // A failed start is the load's to report; the tensors are then made at the end, or never.
  backendReady?.then(
    () => decoder.makeTensors(),
    () => undefined,
  );
  try {
    return await fetchShards(fetchFn, base, metadata, stored, decoder, { start, total, onProgress, cache });
  } catch (e) {
    decoder.fail();
    throw e;
  }
}

async function fetchShards(
  fetchFn: Fetch,
  base: string,
  metadata: ModelMetadata,
  stored: StoredTensor[],
  decoder: ReturnType<typeof progressiveDecoder>,
  { start, total, onProgress, cache }: { start: number; total: number; onProgress?: (p: LoadProgress) => void; cache?: ShardCache },
): Promise<FetchedWeights> {
  let loaded = 0;
  const received = (bytes: number, file: string, fromCache: boolean) => {
    loaded += bytes;
    onProgress?.({ loaded, total, file, fromCache });
  };
  const timings = { hashMs: 0 };
  const writes: Promise<void>[] = [];

  const download = shardDownloader(fetchFn, base, received);
  // Every shard is looked up in the cache at once; the misses queue for a download, in the shards' order.
  const shards = await Promise.all(
    metadata.shards.map(async (shard) => {
      // A cached shard was hashed before it was stored under its hash: reading it back is enough.
      const hit = await cache?.get(shard.sha256);
      if (hit) {
        checkSize(shard, hit);
        received(hit.byteLength, shard.path, true);
        decoder.arrived(shard, new Uint8Array(hit));
        return { fromCache: true };
      }
      const buffer = await download(shard);
      checkSize(shard, buffer);
      const hashStart = performance.now();
      const digest = await sha256Hex(buffer);
      timings.hashMs += performance.now() - hashStart;
      if (digest !== shard.sha256) {
        throw new MMNetError('model-load', `${shard.path}: sha256 mismatch (corrupted or stale file)`, shard.path);
      }
      if (cache) writes.push(cache.put(shard.sha256, buffer));
      decoder.arrived(shard, new Uint8Array(buffer));
      return { fromCache: false };
    }),
  );
  // Writing Cache Storage takes seconds for a first visit's shards: the tensors are made meanwhile.
  const cached = Promise.all(writes)
    .then(() => cache?.retain(metadata.shards.map((s) => s.sha256)))
    .catch(() => undefined);
  return {
    metadata,
    stored,
    tensors: decoder.finish,
    fromCache: shards.every((s) => s.fromCache),
    timings: { fetchMs: performance.now() - start, ...timings },
    cached,
  };
}

/**
 * `loadWeights`' second half: the tensors, on the current backend; then the wait for the downloaded shards
 * to be in Cache Storage, so that a reload right away finds them.
 */
export async function decodeFetched({ metadata, stored, tensors, fromCache, timings, cached }: FetchedWeights): Promise<LoadedWeights> {
  const start = performance.now();
  const made = await tensors();
  const weights: Record<string, tf.Tensor> = {};
  stored.forEach(({ name }, k) => (weights[name] = made[k]));
  const decoded = performance.now();
  await cached;
  return { metadata, weights, fromCache, timings: { ...timings, decodeMs: decoded - start, cacheWriteMs: performance.now() - decoded } };
}

function checkSize(shard: Shard, buffer: ArrayBuffer) {
  if (buffer.byteLength !== shard.bytes) {
    throw new MMNetError('model-load', `${shard.path}: ${buffer.byteLength} bytes, expected ${shard.bytes}`, shard.path);
  }
}

/**
 * The worker's thread runs its synchronous work (a tensor's dequantizing, its copy onto the backend, its
 * convolution's warm-up) in slices of about this long, then lets its event loop run: the same thread drains
 * the shards' response bodies and cache reads, which would otherwise stall behind seconds of decoding, and
 * answers the example's matches meanwhile.
 */
const SLICE_MS = 50;

/** A new task: a message, not a timer (a timer set from a timer waits at least 4 ms once they nest). */
export const nextTask = () =>
  new Promise<void>((done) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      done();
    };
    port2.postMessage(undefined);
  });

/**
 * Decodes each tensor to float32 as soon as the shards holding its bytes are in, and makes it a tensor once
 * the backend is ready, in `SLICE_MS` slices (a queue, in the tensors' order), so this overlaps the download
 * instead of following it and does not hold it up. Shards may arrive in any order.
 */
function progressiveDecoder(
  shards: ModelMetadata['shards'],
  stored: readonly StoredTensor[],
  total: number,
  onTensors?: (made: WeightMap) => void,
) {
  const sizes = stored.map((t) => storedBytes(t.shape, t.storage));
  const expected = sizes.reduce((a, b) => a + b, 0);
  if (expected !== total) {
    throw new MMNetError('model-load', `model.json: its tensors take ${expected} bytes, the shards hold ${total}`, 'model.json');
  }
  const bytes = new Uint8Array(total);
  const shardStart = shards.map((_, k) => shards.slice(0, k).reduce((sum, s) => sum + s.bytes, 0));
  const shardOf = (offset: number) => shardStart.filter((start) => start <= offset).length - 1;
  const tensorStart = sizes.map((_, k) => sizes.slice(0, k).reduce((a, b) => a + b, 0));
  // The shards each tensor's bytes lie in (a zero-size tensor lies in the shard of its offset).
  const spans = sizes.map((size, k) => ({ first: shardOf(tensorStart[k]), last: shardOf(tensorStart[k] + Math.max(size, 1) - 1) }));
  const isIn = shards.map(() => false);
  /** Tensors whose bytes are all in, not yet made, in arrival order. */
  const ready: number[] = [];
  const queued = stored.map(() => false);
  const values: (Float32Array | undefined)[] = [];
  const tensors: (tf.Tensor | undefined)[] = [];
  const byName: Record<string, tf.Tensor> = {};
  let backendReady = false;
  /** Set once the load failed: nothing more is made here. */
  let closed = false;
  /** The queue's run under way, if any. */
  let running: Promise<void> | undefined;

  const decode = (t: number, out?: Float32Array) =>
    dequantize(bytes.subarray(tensorStart[t], tensorStart[t] + sizes[t]), stored[t].shape, stored[t].storage, out);
  /**
   * One tensor's step: its tensor once the backend is ready, decoded straight into it; before that, its
   * values (made a tensor, and dropped, once it is).
   */
  const step = (t: number) => {
    const { name, shape } = stored[t];
    if (!backendReady) {
      values[t] ??= decode(t);
      return false;
    }
    const early = values[t];
    tensors[t] = byName[name] = early ? tf.tensor(early, shape, 'float32') : filledTensor(shape, (out) => decode(t, out));
    values[t] = undefined;
    return true;
  };
  /** The tensors that can be worked on now: not made, and not waiting (decoded) for the backend. */
  const undone = () => ready.filter((t) => !tensors[t] && (backendReady || !values[t]));
  /** Runs the queue, a slice per task; the tensors left decoded wait for the backend. */
  const run = async () => {
    for (let left = undone(); !closed && left.length > 0; left = undone()) {
      const sliceStart = performance.now();
      for (const t of left) {
        if (step(t)) onTensors?.(byName);
        if (closed || performance.now() - sliceStart > SLICE_MS) break;
      }
      await nextTask();
    }
  };
  const schedule = (): Promise<void> =>
    (running ??= run().finally(() => {
      running = undefined;
      // Work that arrived as the run ended.
      if (!closed && undone().length > 0) inBackground();
    }));
  /** A run nobody waits for: an error in it is `finish`'s to report (it runs the work again). */
  const inBackground = () => void schedule().catch(() => undefined);
  return {
    /** The backend the tensors belong on is the current one. */
    makeTensors() {
      backendReady = true;
      inBackground();
    },
    /** Every tensor, once all shards are in and the queue has run (the backend must be ready). */
    async finish(): Promise<tf.Tensor[]> {
      backendReady = true;
      while (stored.some((_, t) => !tensors[t])) {
        if (closed) throw new MMNetError('model-load', 'the load failed');
        await schedule();
      }
      return tensors as tf.Tensor[];
    },
    /** The load failed: what was made goes, and nothing more is. */
    fail() {
      closed = true;
      tf.dispose(tensors.filter((t) => t !== undefined));
    },
    arrived(shard: Shard, data: Uint8Array) {
      const k = shards.indexOf(shard);
      bytes.set(data, shardStart[k]);
      isIn[k] = true;
      spans.forEach(({ first, last }, t) => {
        if (queued[t] || first > k || last < k) return;
        for (let s = first; s <= last; s++) if (!isIn[s]) return;
        queued[t] = true;
        ready.push(t);
      });
      inBackground();
    },
  };
}

/** model.json from the network, else (offline) the copy cached by the last load. */
async function fetchModelJson(fetchFn: Fetch, base: string, cache?: ShardCache): Promise<ModelJson> {
  const url = `${base}model.json`;
  let text: string;
  try {
    text = new TextDecoder().decode((await fetchBytes(fetchFn, base, 'model.json')).bytes);
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
    if (json.metadata?.format !== 'mmnet-web/2' || !Array.isArray(json.weights))
      throw new Error('not an mmnet-web/2 model (rebuild it with npm run models)');
    return json;
  } catch (e) {
    throw new MMNetError('model-load', `${file}: ${(e as Error).message}`, file);
  }
}

/** Bytes `from` to `to` (inclusive) of a file. */
type Span = readonly [from: number, to: number];

/**
 * Downloads shards by `RANGE_BYTES` ranges, `PARALLEL_DOWNLOADS` at a time, in the order asked. The first range
 * tells whether the server answers ranges; until it does, nothing else starts. A server that sends the whole
 * file instead (200) gets whole files from then on, one request per shard.
 */
function shardDownloader(fetchFn: Fetch, base: string, received: (bytes: number, file: string, fromCache: false) => void) {
  const limit = pLimit(PARALLEL_DOWNLOADS);
  let rangesServed: Promise<boolean> | undefined;
  const get = (shard: Shard, span?: Span) =>
    limit(() => fetchBytes(fetchFn, base, shard.path, (n) => received(n, shard.path, false), span));
  /** A shard from its ranges' bodies; a body that is the whole file (the server ignored the range) is the shard. */
  const joined = (parts: FetchedBytes[]) => parts.find((p) => !p.partial)?.bytes ?? concat(parts.map((p) => new Uint8Array(p.bytes)));
  return async (shard: Shard): Promise<ArrayBuffer> => {
    const [first, ...rest] = spans(shard.bytes);
    if (!rangesServed) {
      const head = get(shard, first);
      rangesServed = head.then(
        (part) => {
          if (!part.partial) limit.concurrency = WHOLE_FILES_AT_ONCE;
          return part.partial;
        },
        () => false,
      );
      // Queued in the probe's own reaction, ahead of the shards that wait for the answer.
      const tail = rangesServed.then((served) => (served ? Promise.all(rest.map((span) => get(shard, span))) : []));
      const [part, parts] = await Promise.all([head, tail]);
      return joined([part, ...parts]);
    }
    if (!(await rangesServed)) return (await get(shard)).bytes;
    return joined(await Promise.all(spans(shard.bytes).map((span) => get(shard, span))));
  };
}

/** A file's byte ranges of `RANGE_BYTES` (one empty range for an empty file). */
function spans(bytes: number): Span[] {
  const out: Span[] = [];
  for (let from = 0; from === 0 || from < bytes; from += RANGE_BYTES) out.push([from, Math.min(bytes, from + RANGE_BYTES) - 1]);
  return out;
}

interface FetchedBytes {
  bytes: ArrayBuffer;
  /** The body is the range asked for (206), not the whole file. */
  partial: boolean;
}

/**
 * Reads a response body chunk by chunk so a progress bar can move during a 4 MB shard; with `span`, asks for
 * those bytes alone. A 206 must hold exactly the range; a 200 is the whole file.
 */
async function fetchBytes(
  fetchFn: Fetch,
  base: string,
  file: string,
  onChunk?: (bytes: number) => void,
  span?: Span,
): Promise<FetchedBytes> {
  let response: Response;
  try {
    response = await fetchFn(base + file, span && span[1] >= span[0] ? { headers: { Range: `bytes=${span[0]}-${span[1]}` } } : undefined);
  } catch (e) {
    throw new MMNetError('model-load', `${file}: ${(e as Error).message}`, file);
  }
  if (!response.ok) throw new MMNetError('model-load', `${file}: HTTP ${response.status}`, file);
  const partial = response.status === 206;
  const bytes = await readBody(response, onChunk);
  if (partial && span && bytes.byteLength !== span[1] - span[0] + 1) {
    throw new MMNetError('model-load', `${file}: ${bytes.byteLength} bytes for the range ${span[0]}–${span[1]}`, file);
  }
  return { bytes, partial };
}

async function readBody(response: Response, onChunk?: (bytes: number) => void): Promise<ArrayBuffer> {
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
