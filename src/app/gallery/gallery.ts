/**
 * Gallery mode: one source, many targets. Its state (a zustand store beside the app's) and the pure rules
 * the engine and the view share; `galleryEngine.ts` talks to the worker.
 */
import { create } from 'zustand';
import type { Correspondence } from '../protocol';
import type { AppState } from '../store';

/** More images are refused with a notice: each target keeps its feature maps (about 4 MB) in the worker. */
export const MAX_GALLERY_IMAGES = 50;

export interface GalleryItem {
  id: number;
  name: string;
  /** Kept to show the image at full size when it is opened beside the source. */
  file: Blob;
  /** SHA-256 of the file: duplicates share one encode. */
  digest: string;
  /** Original size after EXIF orientation; every coordinate is in these pixels. */
  width: number;
  height: number;
  thumb: ImageBitmap;
  /** The credit its photo must be shown with (an example's). */
  attribution?: string;
}

/** The source pins (`pins`, by id) matched on one target, with the key of what they depend on. */
export interface GalleryResult {
  key: string;
  pins: number[];
  matches: Correspondence[];
}

/** Encodes since the queue was last empty. */
export interface EncodeProgress {
  total: number;
  done: number;
  /** Sum of the finished encodes' durations. */
  ms: number;
}

export interface GalleryState {
  on: boolean;
  /** The item shown in the two-pane view, or null for the grid. */
  open: number | null;
  items: GalleryItem[];
  /** Digests whose features the worker holds. */
  encoded: Record<string, true>;
  /** Encodes the worker has finished (a duplicate adds none). */
  encodes: number;
  progress: EncodeProgress | null;
  results: Record<string, GalleryResult>;
  /** The head that produced the results (for the export). */
  headVersion?: string;
  lastMatch?: { ms: number; targets: number; points: number };
}

export const useGallery = create<GalleryState>()(() => ({
  on: false,
  open: null,
  items: [],
  encoded: {},
  encodes: 0,
  progress: null,
  results: {},
}));

/** The grid replaces the target pane: pair matching pauses. */
export const gridShown = ({ on, open }: GalleryState) => on && open === null;

/** Only pins placed on the source are carried to the targets. */
export const sourcePins = (app: AppState) => app.pins.filter((p) => p.side === 'source');

/** Everything a gallery answer depends on: source image, settings, the pins and where they are. */
export function galleryKey(app: AppState): string {
  const { mode, scale, flip } = app.settings;
  const pins = sourcePins(app).map((p) => `${p.id}@${p.point.x},${p.point.y}`);
  return `${app.images.source?.version}:${mode}:${scale}:${flip}|${pins.join(';')}`;
}

/** The targets whose answers are missing or stale (each digest once). */
export function staleDigests(state: GalleryState, key: string): string[] {
  return Object.keys(state.encoded).filter((digest) => state.results[digest]?.key !== key);
}

/** Estimated milliseconds left, from the mean of the encodes so far (undefined before the first). */
export const timeLeft = ({ total, done, ms }: EncodeProgress): number | undefined => (done > 0 ? (ms / done) * (total - done) : undefined);

/** Splits files into those the gallery has room for and those refused by the limit. */
export function admit<T>(files: readonly T[], held: number, limit = MAX_GALLERY_IMAGES): { taken: T[]; refused: T[] } {
  const room = Math.max(limit - held, 0);
  return { taken: files.slice(0, room), refused: files.slice(room) };
}

/** Characters of a file name kept whole at its end when a caption is too narrow (extension included). */
export const NAME_TAIL = 10;

/** A name as the start that may be cut and the end that is always shown. */
export const splitName = (name: string): [string, string] => [name.slice(0, -NAME_TAIL), name.slice(-NAME_TAIL)];
