/** The typed messages between the app (main thread) and the model worker. */
import type {
  BackendName,
  BackendReport,
  HeatMap,
  LoadProgress,
  MatchMode,
  Point,
  ScaleIndex,
} from '../model/index';

export type Side = 'source' | 'target';

export const otherSide = (side: Side): Side => (side === 'source' ? 'target' : 'source');

export interface MatchSettings {
  mode: MatchMode;
  scale: ScaleIndex;
  flip: boolean;
}

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
  probability: number;
  /** How far the match, matched back, lands from the query (original pixels of the query's image). */
  backError: number;
  /** `backError` is within the tolerance of `isConsistent`. */
  consistent: boolean;
}

export interface QueryResult extends Correspondence {
  key: string;
  heatmap?: HeatMap;
}

export type Request =
  | { type: 'load'; modelUrl: string; backends?: BackendName[]; wasmPaths: string }
  /**
   * `width`/`height`: the original (oriented) size; the bitmap may be downscaled. `digest` (SHA-256 of the
   * file) lets the same image in both panes share one encode.
   */
  | { type: 'encode'; side: Side; version: number; bitmap: ImageBitmap; width: number; height: number; digest: string }
  | { type: 'swap' }
  | { type: 'query'; id: number; settings: MatchSettings; queries: Query[]; dense: boolean }
  /** Tensor memory of the worker (for the benchmark and leak checks). */
  | { type: 'stats' };

export type Response =
  | { type: 'progress'; progress: LoadProgress }
  /** `fromCache`: every weight file came from the browser's Cache Storage. */
  | { type: 'ready'; backend: BackendReport; loadMs: number; fromCache: boolean }
  | { type: 'encoded'; side: Side; version: number; ms: number }
  | {
      type: 'result';
      id: number;
      ms: number;
      results: QueryResult[];
      /** Grid matches (`denseGrid`), when asked for. */
      dense?: Correspondence[];
    }
  | { type: 'stats'; tensors: number; bytes: number }
  /** The backend failed mid-way; the worker reloaded on the next one and re-encoded the images. */
  | { type: 'fallback'; backend: BackendReport; reason: string }
  /** `side`/`version`: an encode failed; `id`: a query failed; neither: the model could not load. */
  | { type: 'error'; code: string; message: string; side?: Side; version?: number; id?: number };
