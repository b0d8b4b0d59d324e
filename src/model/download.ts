/**
 * The model's files, fetched and verified, without tfjs: model.json, then every shard from Cache Storage or
 * the network, its sha256 checked. Nothing here needs the model's code, so the worker starts it on its first
 * message, while tfjs and the model (most of the worker's code) still download (src/app/worker-entry.ts);
 * `fetchWeights` decodes the shards it hands over.
 */
import pLimit from 'p-limit';
import { MMNetError } from './errors';
import { openShardCache, type ShardCache } from './shard-cache';
import { sha256Hex } from './sha256';
import type { LoadProgress, LoadTimings } from './types';
import type { ModelJson, ModelMetadata } from './weights';

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;
/** The platform's fetch (a method of the global scope: called through it, not detached). */
const platformFetch: Fetch = (url, init) => fetch(url, init);
export type Shard = ModelMetadata['shards'][number];

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

export interface DownloadOptions {
  fetch?: Fetch;
  /** Cache Storage name for the model files (browsers only); omitted: no caching. */
  cacheName?: string;
}

/** Who takes a download's shards: they are handed over once, in the order they are verified. */
export interface ShardListener {
  onShard: (shard: Shard, bytes: Uint8Array) => void;
  onProgress?: (p: LoadProgress) => void;
}

export interface DownloadResult {
  /** Every shard came from the browser's cache (no download). */
  fromCache: boolean;
  timings: Pick<LoadTimings, 'fetchMs' | 'hashMs'>;
  /** Settles once downloaded shards are in Cache Storage and stale ones are gone (never rejects: caching is best effort). */
  cached: Promise<void>;
}

/** A model's files on their way. */
export interface ModelDownload {
  /** model.json (from the network; offline, the copy cached by the last load). */
  readonly model: Promise<ModelJson>;
  /**
   * Hands `listener` the shards verified so far, then each as it is, and the latest progress; once per
   * download (shards handed over are not kept). Settles when every shard is in; rejects with the first failure.
   */
  take(listener: ShardListener): Promise<DownloadResult>;
}

/** Starts fetching `model.json` and its shards under `baseUrl` (or reading them from the cache). */
export function downloadModel(baseUrl: string, { fetch: fetchFn = platformFetch, cacheName }: DownloadOptions = {}): ModelDownload {
  const start = performance.now();
  const base = withSlash(baseUrl);
  const opened = cacheName ? openShardCache(cacheName, base) : Promise.resolve(undefined);
  const model = opened.then((cache) => fetchModelJson(fetchFn, base, cache));
  const handOver = relay();
  const result = Promise.all([opened, model]).then(([cache, { metadata }]) =>
    fetchShards(fetchFn, base, metadata.shards, { start, cache, relay: handOver }),
  );
  // Reported to whoever takes the shards (or, for model.json, awaits `model`).
  result.catch(() => undefined);
  model.catch(() => undefined);
  let taken = false;
  return {
    model,
    take(listener) {
      if (taken) throw new Error('a download hands its shards over once');
      taken = true;
      handOver.attach(listener);
      return result;
    },
  };
}

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

/** Shards and progress kept until a listener attaches, then passed straight on. */
function relay() {
  let listener: ShardListener | undefined;
  const early: [Shard, Uint8Array][] = [];
  let latest: LoadProgress | undefined;
  return {
    shard(shard: Shard, bytes: Uint8Array) {
      if (listener) listener.onShard(shard, bytes);
      else early.push([shard, bytes]);
    },
    progress(p: LoadProgress) {
      latest = p;
      listener?.onProgress?.(p);
    },
    attach(to: ShardListener) {
      listener = to;
      for (const [shard, bytes] of early.splice(0)) to.onShard(shard, bytes);
      if (latest) to.onProgress?.(latest);
    },
  };
}

async function fetchShards(
  fetchFn: Fetch,
  base: string,
  shards: Shard[],
  { start, cache, relay: handOver }: { start: number; cache?: ShardCache; relay: ReturnType<typeof relay> },
): Promise<DownloadResult> {
  const total = shards.reduce((sum, s) => sum + s.bytes, 0);
  let loaded = 0;
  const received = (bytes: number, file: string, fromCache: boolean) => {
    loaded += bytes;
    handOver.progress({ loaded, total, file, fromCache });
  };
  const timings = { hashMs: 0 };
  const writes: Promise<void>[] = [];

  const download = shardDownloader(fetchFn, base, received);
  // Every shard is looked up in the cache at once; the misses queue for a download, in the shards' order.
  const fromCache = await Promise.all(
    shards.map(async (shard) => {
      // A cached shard was hashed before it was stored under its hash: reading it back is enough.
      const hit = await cache?.get(shard.sha256);
      if (hit) {
        checkSize(shard, hit);
        received(hit.byteLength, shard.path, true);
        handOver.shard(shard, new Uint8Array(hit));
        return true;
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
      handOver.shard(shard, new Uint8Array(buffer));
      return false;
    }),
  );
  // Writing Cache Storage takes seconds for a first visit's shards: the tensors are made meanwhile.
  const cached = Promise.all(writes)
    .then(() => cache?.retain(shards.map((s) => s.sha256)))
    .catch(() => undefined);
  return { fromCache: fromCache.every(Boolean), timings: { fetchMs: performance.now() - start, ...timings }, cached };
}

/** The model's metadata alone (model.json, a few kB): what matching needs, long before the weights arrive. */
export async function loadMetadata(baseUrl: string, { fetch: fetchFn = platformFetch }: Pick<DownloadOptions, 'fetch'> = {}) {
  return (await fetchModelJson(fetchFn, withSlash(baseUrl))).metadata;
}

/** model.json under `base` from the network, else (offline) the copy cached by the last load. */
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
 * Downloads shards by `RANGE_BYTES` ranges, `PARALLEL_DOWNLOADS` at a time, in the order asked. The first range's
 * answer tells whether the server serves ranges; until its headers are in, nothing else starts. A server that sends
 * the whole file instead (200) gets whole files from then on, one request per shard.
 */
function shardDownloader(fetchFn: Fetch, base: string, received: (bytes: number, file: string, fromCache: false) => void) {
  const limit = pLimit(PARALLEL_DOWNLOADS);
  let rangesServed: Promise<boolean> | undefined;
  const get = (shard: Shard, span?: Span, onAnswer?: (partial: boolean) => void) =>
    limit(() => fetchBytes(fetchFn, base, shard.path, { span, onAnswer, onChunk: (n) => received(n, shard.path, false) }));
  /** A shard from its ranges' bodies; a body that is the whole file (the server ignored the range) is the shard. */
  const joined = (parts: FetchedBytes[]) => parts.find((p) => !p.partial)?.bytes ?? concat(parts.map((p) => new Uint8Array(p.bytes)));
  return async (shard: Shard): Promise<ArrayBuffer> => {
    const [first, ...rest] = spans(shard.bytes);
    if (!rangesServed) {
      let answer!: (served: boolean) => void;
      rangesServed = new Promise((done) => (answer = done));
      const head = get(shard, first, (partial) => {
        if (!partial) limit.concurrency = WHOLE_FILES_AT_ONCE;
        answer(partial);
      });
      head.catch(() => answer(false));
      // Queued in the answer's first reaction, ahead of the shards that wait for it.
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
 * those bytes alone. A 206 must hold exactly the range; a 200 is the whole file. `onAnswer` hears which it is
 * as soon as the headers are in.
 */
async function fetchBytes(
  fetchFn: Fetch,
  base: string,
  file: string,
  { span, onChunk, onAnswer }: { span?: Span; onChunk?: (bytes: number) => void; onAnswer?: (partial: boolean) => void } = {},
): Promise<FetchedBytes> {
  let response: Response;
  try {
    response = await fetchFn(base + file, span && span[1] >= span[0] ? { headers: { Range: `bytes=${span[0]}-${span[1]}` } } : undefined);
  } catch (e) {
    throw new MMNetError('model-load', `${file}: ${(e as Error).message}`, file);
  }
  if (!response.ok) throw new MMNetError('model-load', `${file}: HTTP ${response.status}`, file);
  const partial = response.status === 206;
  onAnswer?.(partial);
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

function checkSize(shard: Shard, buffer: ArrayBuffer) {
  if (buffer.byteLength !== shard.bytes) {
    throw new MMNetError('model-load', `${shard.path}: ${buffer.byteLength} bytes, expected ${shard.bytes}`, shard.path);
  }
}
