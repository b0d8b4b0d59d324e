/**
 * The gallery's side of the worker: files become thumbnails and queued encodes (each distinct file once),
 * and every change of the source pins re-matches all targets in one message, at most one in flight.
 */
import { sha256Hex } from '../../model/sha256';
import { post, worker } from '../modelWorker';
import { admit, galleryKey, MAX_GALLERY_IMAGES, gridShown, sourcePins, staleDigests, useGallery, type GalleryItem } from './gallery';
import { decodeImage, ImageError } from '../images';
import type { Request, Response } from '../protocol';
import { notify, setImage, useStore } from '../store';

const { getState: get, setState: set } = useGallery;

/** Targets are encoded from a copy this size at most: the network sees 320 × 224, and 50 of them stay in memory. */
const ENCODE_SIDE = 640;
const THUMB_SIDE = 320;

let nextItemId = 1;

export const setGallery = (on: boolean) => set({ on, open: null });

/**
 * Adds files as targets: non-images are skipped with one notice naming them, the limit with another.
 * `attribution`: the credit the photos must be shown with (the examples').
 */
export async function addToGallery(files: File[], attribution?: string) {
  const { taken, refused } = admit(files, get().items.length);
  if (refused.length > 0) {
    notify('error', `The gallery holds at most ${MAX_GALLERY_IMAGES} images: ${listNames(refused)} not added.`);
  }
  const skipped: string[] = [];
  // One file at a time keeps memory bounded; encoding starts with the first.
  for (const file of taken) {
    try {
      await addFile(file, attribution);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      // A huge image is refused with its size; only the unreadable ones are listed together.
      if (e.tooLarge) notify('error', e.message);
      else skipped.push(file.name);
    }
  }
  if (skipped.length > 0)
    notify('error', `Skipped ${listNames(skipped)}: not ${skipped.length === 1 ? 'an image' : 'images'} this browser can decode.`);
}

const listNames = (names: readonly (string | File)[]) => {
  const quoted = names.map((n) => `“${typeof n === 'string' ? n : n.name}”`);
  return quoted.length > 5 ? `${quoted.slice(0, 5).join(', ')} and ${quoted.length - 5} more` : quoted.join(', ');
};

async function addFile(file: File, attribution?: string) {
  const [digest, image] = await Promise.all([file.arrayBuffer().then(sha256Hex), decodeImage(file, file.name)]);
  const { width, height } = image;
  const [thumb, bitmap] = await Promise.all([resized(image.bitmap, THUMB_SIDE), resized(image.bitmap, ENCODE_SIDE)]);
  image.bitmap.close();
  // Checked after the awaits: another drop may have brought the same file meanwhile.
  const duplicate = get().items.some((item) => item.digest === digest);
  const item: GalleryItem = { id: nextItemId++, name: file.name, file, digest, width, height, thumb, attribution };
  set((s) => ({
    items: [...s.items, item],
    progress: duplicate ? s.progress : { total: (s.progress?.total ?? 0) + 1, done: s.progress?.done ?? 0, ms: s.progress?.ms ?? 0 },
  }));
  if (duplicate) bitmap.close();
  // Transferred, not copied: the worker owns the encode copy from here on.
  else worker.postMessage({ type: 'gallery-add', images: [{ digest, bitmap, width, height }] } satisfies Request, [bitmap]);
}

/** A copy whose longer side is at most `side` (the bitmap itself is kept by the caller). */
function resized(bitmap: ImageBitmap, side: number): Promise<ImageBitmap> {
  const factor = Math.min(side / Math.max(bitmap.width, bitmap.height), 1);
  return createImageBitmap(bitmap, {
    resizeWidth: Math.max(Math.round(bitmap.width * factor), 1),
    resizeHeight: Math.max(Math.round(bitmap.height * factor), 1),
    resizeQuality: 'high',
  });
}

/** Removes targets; a file's features are freed when no copy of it is left. */
export function removeFromGallery(ids: number[]) {
  const { items, encoded, results, progress } = get();
  const removed = items.filter((item) => ids.includes(item.id));
  const kept = items.filter((item) => !ids.includes(item.id));
  const gone = [...new Set(removed.map((item) => item.digest))].filter((digest) => !kept.some((item) => item.digest === digest));
  for (const item of removed) item.thumb.close();
  const queued = gone.filter((digest) => !encoded[digest]).length;
  set({
    items: kept,
    encoded: without(encoded, gone),
    results: without(results, gone),
    progress: progress && settled({ ...progress, total: progress.total - queued }),
  });
  if (gone.length > 0) post({ type: 'gallery-remove', digests: gone });
}

export const cancelEncoding = () => post({ type: 'gallery-cancel' });

/** Shows a target beside the source, with its features (no second encode) and the same pins. */
export async function openInPanes(item: GalleryItem) {
  try {
    const image = await decodeImage(item.file, item.name);
    setImage('target', { ...image, digest: item.digest });
    post({ type: 'gallery-open', digest: item.digest, version: useStore.getState().images.target!.version });
    set({ open: item.id });
  } catch (e) {
    notify('error', `Could not open “${item.name}”: ${(e as Error).message}`);
  }
}

function without<T>(record: Record<string, T>, keys: string[]): Record<string, T> {
  const copy = { ...record };
  for (const key of keys) delete copy[key];
  return copy;
}

const settled = (progress: { total: number; done: number; ms: number }) => (progress.done >= progress.total ? null : progress);

// ---- matching -------------------------------------------------------------------------------------------

let frame = 0;
let inFlight: { id: number; key: string; pins: number[]; signature: string } | null = null;
let nextMatchId = 1;
/** The last match that failed: not retried until something it depends on changes. */
let failedSignature = '';

function schedule() {
  if (!frame && !inFlight) frame = requestAnimationFrame(flush);
}

function flush() {
  frame = 0;
  const app = useStore.getState();
  const gallery = get();
  // While a target is open beside the source only the pair is matched; the grid catches up on return.
  if (!gridShown(gallery) || app.model.phase !== 'ready' || !app.images.source) return;
  const pins = sourcePins(app);
  const key = galleryKey(app);
  const digests = staleDigests(gallery, key);
  if (pins.length === 0 || digests.length === 0) return;
  const signature = `${key}|${digests.join(',')}`;
  if (signature === failedSignature) return;
  const id = nextMatchId++;
  inFlight = { id, key, pins: pins.map((p) => p.id), signature };
  post({ type: 'gallery-match', id, settings: app.settings, points: pins.map((p) => p.point), digests });
}

useStore.subscribe(schedule);
useGallery.subscribe(schedule);

// ---- worker messages ------------------------------------------------------------------------------------

worker.addEventListener('message', ({ data }: MessageEvent<Response>) => receive(data));

function receive(message: Response) {
  const state = get();
  switch (message.type) {
    case 'gallery-encoded': {
      const held = state.items.some((item) => item.digest === message.digest);
      const progress =
        state.progress && held ? { ...state.progress, done: state.progress.done + 1, ms: state.progress.ms + message.ms } : state.progress;
      return set({
        encodes: state.encodes + 1,
        // Removed while it was encoding: the worker frees it with the removal.
        encoded: held ? { ...state.encoded, [message.digest]: true } : state.encoded,
        progress: progress && settled(progress),
      });
    }
    case 'gallery-cancelled': {
      const dropped = state.items.filter((item) => message.digests.includes(item.digest));
      if (dropped.length > 0)
        notify('info', `Encoding cancelled: ${dropped.length} ${dropped.length === 1 ? 'image' : 'images'} not added.`);
      removeFromGallery(dropped.map((item) => item.id));
      return;
    }
    case 'gallery-matched': {
      const sent = inFlight!;
      inFlight = null;
      const results = { ...state.results };
      for (const { digest, matches } of message.results) results[digest] = { key: sent.key, pins: sent.pins, matches };
      set({
        results,
        headVersion: message.headVersion,
        lastMatch: { ms: message.ms, targets: message.results.length, points: sent.pins.length },
      });
      return schedule();
    }
    case 'gallery-error':
      if (message.id !== undefined) {
        failedSignature = inFlight?.signature ?? '';
        inFlight = null;
        return notify('error', `Matching the gallery failed: ${message.message}`);
      }
      if (message.digest !== undefined) {
        const failed = state.items.filter((item) => item.digest === message.digest);
        removeFromGallery(failed.map((item) => item.id));
        return notify('error', `Could not encode ${listNames(failed.map((item) => item.name))}: ${message.message}`);
      }
      return notify('error', `Gallery: ${message.message}`);
  }
}
