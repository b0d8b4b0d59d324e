import type * as tf from '@tensorflow/tfjs-core';
import type { BACKEND_ORDER, ScaleIndex } from './constants';
import type { MatchSignals } from './confidence';

export type BackendName = (typeof BACKEND_ORDER)[number];

/** How the target row is scored (SPEC §4, §4b; `hyper`: src/model/hyperpixels.ts). */
export type MatchMode = 'fused' | 'mmnet' | 'raw' | 'hyper';

export interface Point {
  x: number;
  y: number;
}

/** Anything `encode` accepts: browser image sources, raw RGBA/RGB pixels, or an H×W×3 tensor (0..255). */
export type ImageInput =
  | tf.Tensor3D
  | ImageData
  | { data: Uint8Array | Uint8ClampedArray; width: number; height: number }
  | ImageBitmap
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | HTMLVideoElement;

export interface LoadProgress {
  /** Bytes received so far, over all files. */
  loaded: number;
  /** Total bytes to fetch (from model.json). */
  total: number;
  /** The file being fetched. */
  file: string;
  /** The file came from the browser's cache, not the network. */
  fromCache: boolean;
}

/**
 * Where `loadMMNet`'s time went, in ms. The backend starts while the weights download, and shards are
 * hashed while others download, so the parts overlap.
 */
export interface LoadTimings {
  totalMs: number;
  /** Starting the tfjs backend, including the ones tried and rejected before it. */
  backendMs: number;
  /** model.json and every shard, from the network or Cache Storage, verified (wall time). */
  fetchMs: number;
  /** sha256 of the downloaded shards, summed over shards (cached ones were verified before they were stored). */
  hashMs: number;
  /** Decoding the stored weights to float32 and creating the tensors. */
  decodeMs: number;
  /** Then waiting for the last downloaded shards to be written to Cache Storage (written while others download). */
  cacheWriteMs: number;
  /** How many tensors were decoded on another thread (`WeightLoadOptions.dequantizeElsewhere`). */
  decodedElsewhere: number;
}

export interface BackendReport {
  /** The backend in use. */
  name: BackendName;
  /** Backends tried before it, with the reason each was not used. */
  rejected: { name: BackendName; reason: string }[];
  /** How the wasm backend runs, when it is the one in use. */
  wasm?: WasmReport;
}

export interface WasmReport {
  simd: boolean;
  /** Threads the kernels run on, the calling one included. */
  threads: number;
  /** Why only one thread (e.g. the page is not cross-origin isolated), when that is so. */
  singleThreadReason?: string;
  /** Threaded wasm was possible but did not start in time (a host's policy blocked its workers): one thread runs. */
  threadsBlocked?: boolean;
}

export interface MatchOptions {
  /** Prediction scale 1–4 (stride 4, 8, 16, 32); default 3. */
  scale?: ScaleIndex;
  /** Default `'fused'`. */
  mode?: MatchMode;
  /** Also use the horizontally mirrored images (encodes them once, lazily). */
  flip?: boolean;
  /** Return the heat map (softmax of the row) for each point. */
  heatmap?: boolean;
  /**
   * Compute every confidence signal, also those the shipped calibration does not read (for refitting it):
   * `scaleDistance` costs the companion scale's rows, `spread` four neighbours' rows per point, `rawCosine` the
   * trunk's cosine rows.
   */
  allSignals?: boolean;
  /**
   * Weigh each row by the pair's geometric consensus (regularized Hough matching, computed once per pair);
   * default: the model's `metadata.matching.consensus`.
   */
  consensus?: boolean;
  /**
   * With the consensus: match against the mirrored target when its mirrored geometry is the stronger
   * (points stay in the target's own coordinates); default: `metadata.matching.mirror`.
   */
  mirror?: boolean;
  /**
   * With the consensus: weigh by the histograms of every scale hypothesis (`metadata.matching.houghScales`, when
   * shipped) rather than by translation alone; default true.
   */
  scaleHypotheses?: boolean;
  /**
   * With the consensus: weigh each row also by a query-centred histogram, whose votes are weighed by how near their
   * source cell is to the point (`localRadius`, `localHole`, `localWeight`, `localScales` of `metadata.matching`);
   * default: `metadata.matching.local`.
   */
  local?: boolean;
  /**
   * Place each point by keypoint transfer from the source cells around it (`transferRadius`, `transferExponent`
   * of `metadata.matching`) rather than at its own row's peak alone; default: `metadata.matching.transfer`.
   */
  transfer?: boolean;
}

export interface HeatMap {
  /** Probabilities, row-major `height × width`, summing to 1. */
  data: Float32Array;
  width: number;
  height: number;
  /** Target-image pixels per cell, in resized (network input) coordinates. */
  stride: number;
}

export interface Match {
  /** The query, in original source-image coordinates. */
  source: Point;
  /** The prediction, in original target-image coordinates. */
  target: Point;
  /** Argmax cell `[i, j]` (row, column) of the scored row. */
  cell: [number, number];
  /** Value of the scored row at the argmax cell. */
  score: number;
  /**
   * The heat map's peak: the argmax cell's probability under the softmax over all cells. Not a chance of
   * being right (see `confidence`).
   */
  probability: number;
  /**
   * The calibrated chance that the match is right (within α = 0.10 of the target's keypoint box, as
   * PF-WILLOW counts it), in [0, 1], from `signals` and the model's `metadata.confidence`.
   */
  confidence: number;
  /** How far the match, matched back onto the source, lands from the query (original source pixels). */
  backError: number;
  /** The calibrator's inputs. */
  signals: MatchSignals;
  /** The target was matched as its mirror image (the mirror rule). */
  mirrored: boolean;
  /**
   * The pair's consensus support of the argmax cell, in [0, 1]: its offset's histogram value over the histogram's
   * peak (with scale hypotheses: their values summed over their peaks summed).
   */
  support: number;
  heatmap?: HeatMap;
}
