import * as tf from '@tensorflow/tfjs-core';
import { filledTensor, heapTensor, type HeapTensor } from './backend';
import { downloadModel, type DownloadOptions, type ModelDownload, type Shard } from './download';
import { MMNetError } from './errors';
import { dequantize, storedBytes, type DequantizeElsewhere, type StoredTensor } from './quantization';
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
   * (once `WeightLoadOptions.backendReady` had settled) and the rest made now; and how many of them
   * `WeightLoadOptions.dequantizeElsewhere` decoded. Called once.
   */
  tensors: () => Promise<{ made: tf.Tensor[]; elsewhere: number }>;
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

export interface WeightLoadOptions extends DownloadOptions {
  /** The model's files, already being downloaded (`downloadModel` with this URL): used instead of starting a download. */
  download?: ModelDownload;
  onProgress?: (p: LoadProgress) => void;
  /**
   * Settles once the backend the weights belong on is the current one: from then on each tensor is made
   * as its shards arrive, so that work overlaps the download instead of following it.
   */
  backendReady?: Promise<unknown>;
  /** Called with every tensor made so far, each time more are made (as their shards arrive, once the backend is ready). */
  onTensors?: (made: WeightMap, metadata: ModelMetadata) => void;
  /**
   * Decodes tensors on another thread, straight into the wasm backend's heap, while this one builds the
   * operators of those already made (`onTensors`): the two halves of a load's work on two cores. Only wasm
   * tensors go there; one it cannot decode is decoded here.
   */
  dequantizeElsewhere?: DequantizeElsewhere;
}

/**
 * Fetches `model.json` and its shards under `baseUrl` (or takes them from the cache), checks every
 * shard's sha256 and decodes the weights to float32 tensors. Errors are `MMNetError('model-load')`
 * naming the file.
 */
export async function loadWeights(baseUrl: string, options: WeightLoadOptions = {}): Promise<LoadedWeights> {
  return decodeFetched(await fetchWeights(baseUrl, options));
}

/** `loadWeights`' first half: the verified bytes (runs while a backend starts), each decoded as it comes. */
export async function fetchWeights(
  baseUrl: string,
  { download, onProgress, backendReady, onTensors, dequantizeElsewhere, ...options }: WeightLoadOptions = {},
): Promise<FetchedWeights> {
  download ??= downloadModel(baseUrl, options);
  const { metadata, weights: stored } = await download.model;
  const total = metadata.shards.reduce((sum, s) => sum + s.bytes, 0);
  const decoder = progressiveDecoder(
    metadata.shards,
    stored,
    total,
    onTensors && ((made) => onTensors(made, metadata)),
    dequantizeElsewhere,
  );
  // A failed start is the load's to report; the tensors are then made at the end, or never.
  backendReady?.then(
    () => decoder.makeTensors(),
    () => undefined,
  );
  try {
    const { fromCache, timings, cached } = await download.take({ onShard: decoder.arrived, onProgress });
    return { metadata, stored, tensors: decoder.finish, fromCache, timings, cached };
  } catch (e) {
    decoder.fail();
    throw e;
  }
}

/**
 * `loadWeights`' second half: the tensors, on the current backend; then the wait for the downloaded shards
 * to be in Cache Storage, so that a reload right away finds them.
 */
export async function decodeFetched({ metadata, stored, tensors, fromCache, timings, cached }: FetchedWeights): Promise<LoadedWeights> {
  const start = performance.now();
  const { made, elsewhere } = await tensors();
  const weights: Record<string, tf.Tensor> = {};
  stored.forEach(({ name }, k) => (weights[name] = made[k]));
  const decoded = performance.now();
  await cached;
  return {
    metadata,
    weights,
    fromCache,
    timings: { ...timings, decodeMs: decoded - start, cacheWriteMs: performance.now() - decoded, decodedElsewhere: elsewhere },
  };
}

/**
 * The worker's thread runs its synchronous work (a tensor's dequantizing onto the backend, its
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
 * Makes each tensor, decoded straight onto the backend, as soon as the shards holding its bytes are in and the
 * backend is ready, in `SLICE_MS` slices (a queue, in the tensors' order), so this overlaps the download
 * instead of following it and does not hold it up. Shards may arrive in any order. Nothing is decoded before
 * the backend is ready: the backend's start runs on this thread too, between the slices, and the load waits
 * for it (a return visit's shards are read from the cache long before it; decoding them into arrays meanwhile
 * delayed the backend, then cost a copy). With `elsewhere`, the wasm tensors are decoded there, and this thread
 * makes each one (building its operators, `onTensors`) as it comes back.
 */
function progressiveDecoder(
  shards: ModelMetadata['shards'],
  stored: readonly StoredTensor[],
  total: number,
  onTensors?: (made: WeightMap) => void,
  elsewhere?: DequantizeElsewhere,
) {
  const sizes = stored.map((t) => storedBytes(t.shape, t.storage));
  const expected = sizes.reduce((a, b) => a + b, 0);
  if (expected !== total) {
    throw new MMNetError('model-load', `model.json: its tensors take ${expected} bytes, the shards hold ${total}`, 'model.json');
  }
  // Shared memory where there is any, so that the tensors' bytes reach `elsewhere` without a copy.
  const bytes = new Uint8Array(
    elsewhere && typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(total) : new ArrayBuffer(total),
  );
  const shardStart = shards.map((_, k) => shards.slice(0, k).reduce((sum, s) => sum + s.bytes, 0));
  const shardOf = (offset: number) => shardStart.filter((start) => start <= offset).length - 1;
  const tensorStart = sizes.map((_, k) => sizes.slice(0, k).reduce((a, b) => a + b, 0));
  // The shards each tensor's bytes lie in (a zero-size tensor lies in the shard of its offset).
  const spans = sizes.map((size, k) => ({ first: shardOf(tensorStart[k]), last: shardOf(tensorStart[k] + Math.max(size, 1) - 1) }));
  const isIn = shards.map(() => false);
  /** Tensors whose bytes are all in, not yet made, in arrival order. */
  const ready: number[] = [];
  const queued = stored.map(() => false);
  const tensors: (tf.Tensor | undefined)[] = [];
  const byName: Record<string, tf.Tensor> = {};
  let backendReady = false;
  /** Set once the load failed: nothing more is made here. */
  let closed = false;
  /** The queue's run under way, if any. */
  let running: Promise<void> | undefined;
  /** Tensors being decoded elsewhere. */
  const away = new Map<number, Promise<void>>();
  let decodedElsewhere = 0;

  const bytesOf = (t: number) => bytes.subarray(tensorStart[t], tensorStart[t] + sizes[t]);
  const decode = (t: number, out: Float32Array) => dequantize(bytesOf(t), stored[t].shape, stored[t].storage, out);
  const decodedHere = (t: number) => filledTensor(stored[t].shape, (out) => decode(t, out));
  const add = (t: number, tensor: tf.Tensor) => {
    tensors[t] = byName[stored[t].name] = tensor;
    onTensors?.(byName);
  };
  /** Decodes a tensor elsewhere into its reserved memory (here if that fails), then makes it. */
  const sendAway = async (t: number, memory: HeapTensor, there: DequantizeElsewhere) => {
    try {
      await there(bytesOf(t), stored[t].shape, stored[t].storage, memory.values()).then(
        () => decodedElsewhere++,
        // A failed load needs the values no more.
        () => closed || decode(t, memory.values()),
      );
    } catch (e) {
      memory.free();
      throw e;
    }
    if (closed) memory.free();
    else add(t, memory.tensor());
  };
  /** One tensor, decoded straight into the backend's memory, here or elsewhere. */
  const make = (t: number) => {
    const memory = elsewhere && heapTensor(stored[t].shape);
    if (!memory) return add(t, decodedHere(t));
    const job = sendAway(t, memory, elsewhere);
    away.set(t, job);
    // A failure is `finish`'s to report: it makes the tensor again.
    job.catch(() => undefined).finally(() => away.delete(t));
  };
  /** The tensors that can be made now: their bytes in, not made or on their way, the backend ready. */
  const undone = () => (backendReady ? ready.filter((t) => !tensors[t] && !away.has(t)) : []);
  /** Runs the queue, a slice per task. */
  const run = async () => {
    for (let left = undone(); !closed && left.length > 0; left = undone()) {
      const sliceStart = performance.now();
      for (const t of left) {
        make(t);
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
    async finish(): Promise<{ made: tf.Tensor[]; elsewhere: number }> {
      backendReady = true;
      while (stored.some((_, t) => !tensors[t])) {
        if (closed) throw new MMNetError('model-load', 'the load failed');
        await schedule();
        await Promise.all(away.values());
      }
      return { made: tensors as tf.Tensor[], elsewhere: decodedElsewhere };
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

/** A weight by name; a missing one means model.json and the code disagree. */
export function weight<R extends tf.Rank>(weights: WeightMap, name: string): tf.Tensor<R> {
  const t = weights[name];
  if (!t) throw new MMNetError('model-load', `model.json has no tensor "${name}"`, 'model.json');
  return t as tf.Tensor<R>;
}
