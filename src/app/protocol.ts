/** The typed messages between the app (main thread) and the model worker. */
import { DEFAULT_SCALE } from '../model/constants';
import type { Band, Bands } from './confidence/bands';
import type { BackendName, BackendReport, HeatMap, LoadProgress, LoadTimings, MatchMode, Point, ScaleIndex } from '../model/index';

/** The Cache Storage the model's files are kept in: a second visit downloads nothing. */
export const MODEL_CACHE = 'mmnet-web-models';

export type Side = 'source' | 'target';

export const otherSide = (side: Side): Side => (side === 'source' ? 'target' : 'source');

/** Each pane's title. */
export const SIDE_TITLES: Record<Side, string> = { source: 'Source', target: 'Target' };

export interface MatchSettings {
  mode: MatchMode;
  scale: ScaleIndex;
  flip: boolean;
}

/** What the panes match with until the visitor changes it (and what the example's first answers used). */
export const DEFAULT_SETTINGS: MatchSettings = { mode: 'fused', scale: DEFAULT_SCALE, flip: false };

/** One query point; `key` identifies it so the app can tell a fresh answer from a stale one. */
export interface Query {
  key: string;
  side: Side;
  point: Point;
}

/** A match with its forward–backward check, in original-image coordinates. */
export interface Correspondence {
  /** The query, on the query's side. */
  query: Point;
  /** The prediction, on the other side. */
  match: Point;
  /** The heat map's peak probability. */
  probability: number;
  /** Calibrated chance that the match is right (`Match.confidence`). */
  confidence: number;
  /** `confidence` in words (the calibration's bands). */
  band: Band;
  /** How far the match, matched back, lands from the query (original pixels of the query's image). */
  backError: number;
  /** `backError` is within the tolerance of `isConsistent`. */
  consistent: boolean;
  /** The other image was matched as its mirror image (the objects face opposite ways). */
  mirrored: boolean;
}

export interface QueryResult extends Correspondence {
  key: string;
  heatmap?: HeatMap;
}

/** A gallery target to encode; `digest` (SHA-256 of the file) names it, so a duplicate is sent once. */
export interface GalleryImage {
  digest: string;
  bitmap: ImageBitmap;
  /** Original size; the bitmap may be a downscaled copy. */
  width: number;
  height: number;
}

/** The source points matched on one gallery target, in the order they were sent. */
export interface GalleryMatch {
  digest: string;
  matches: Correspondence[];
}

export type Request =
  | { type: 'load'; modelUrl: string; backends?: BackendName[]; wasmPaths: string; threads?: number }
  /**
   * `width`/`height`: the original (oriented) size; the bitmap may be downscaled. `digest` (SHA-256 of the
   * file) lets the same image in both panes share one encode. `shipped`: the photo's features as the site
   * ships them (an example's feature file), read instead of encoding, before the model has loaded.
   */
  | {
      type: 'encode';
      side: Side;
      version: number;
      bitmap: ImageBitmap;
      width: number;
      height: number;
      digest: string;
      shipped?: ArrayBuffer;
    }
  | { type: 'swap' }
  /**
   * An example pair's consensus both ways (src/model/consensus-file.ts), by its photos' digests: matched before
   * the weights arrive, the pair then skips its one-off work.
   */
  | { type: 'consensus'; source: string; target: string; forward: ArrayBuffer; backward: ArrayBuffer }
  | { type: 'query'; id: number; settings: MatchSettings; queries: Query[]; dense: boolean }
  /** Tensor memory of the worker (for the benchmark and leak checks). */
  | { type: 'stats' }
  /** Gallery targets join the worker's queue: encoded one at a time, other messages run in between. */
  | { type: 'gallery-add'; images: GalleryImage[] }
  /** Drops the queued gallery encodes at once (not after the queue); the one running finishes. */
  | { type: 'gallery-cancel' }
  /** Frees gallery targets' features (or drops them from the queue). */
  | { type: 'gallery-remove'; digests: string[] }
  /** Every source point on every listed gallery target, with the backward check, in one message. */
  | { type: 'gallery-match'; id: number; settings: MatchSettings; points: Point[]; digests: string[] }
  /** Shows a gallery target in the target pane with its features (no encode); answered by `encoded`. */
  | { type: 'gallery-open'; digest: string; version: number }
  /** One pane point's heat map at every scale (MMNet's rows, coarse to fine), answered by `scales`. */
  | { type: 'scales'; id: number; side: Side; point: Point; flip: boolean };

/** A query's answer at one scale of the pyramid. */
export interface ScaleRow {
  scale: ScaleIndex;
  heatmap: HeatMap;
  /** The row's own best match, in original pixels of the other pane. */
  match: Point;
  probability: number;
}

export type Response =
  | { type: 'progress'; progress: LoadProgress }
  /** The backend has started (the weights may still be on their way). */
  | { type: 'backend'; backend: BackendReport }
  /** `fromCache`: every weight file came from the browser's Cache Storage. */
  | { type: 'ready'; backend: BackendReport; loadMs: number; fromCache: boolean; timings: LoadTimings }
  /** The calibration's bands, as soon as model.json is in (long before the weights). */
  | { type: 'calibration'; bands: Bands }
  /** `shipped`: the features are the site's own (matchable before the model has loaded). */
  | { type: 'encoded'; side: Side; version: number; ms: number; shipped: boolean }
  /** How far an encode has come (0–1), now and then while it runs. */
  | { type: 'encode-progress'; version: number; fraction: number }
  | {
      type: 'result';
      id: number;
      ms: number;
      results: QueryResult[];
      /** Grid matches (`denseGrid`), when asked for. */
      dense?: Correspondence[];
    }
  | { type: 'stats'; tensors: number; bytes: number }
  /** Both panes' mirror images are encoded: asked again, the panes' answers follow the mirror rule. */
  | { type: 'mirrors-ready' }
  /** The backend failed mid-way; the worker reloaded on the next one and re-encoded the images. */
  | { type: 'fallback'; backend: BackendReport; reason: string }
  /** `side`/`version`: an encode failed; `id`: a query failed; neither: the model could not load. */
  | { type: 'error'; code: string; message: string; side?: Side; version?: number; id?: number }
  | { type: 'gallery-encoded'; digest: string; ms: number }
  /** The queued encodes `gallery-cancel` dropped. */
  | { type: 'gallery-cancelled'; digests: string[] }
  | { type: 'gallery-matched'; id: number; ms: number; headVersion: string; results: GalleryMatch[] }
  /** `digest`: that target's encode failed; `id`: that match failed. */
  | { type: 'gallery-error'; message: string; digest?: string; id?: number }
  /** `rows` coarse to fine; `error` instead when they could not be computed. */
  | { type: 'scales'; id: number; rows: ScaleRow[]; error?: string };
