/**
 * The bridge between the store and the model worker: loads the model, sends images to be encoded, and keeps
 * every pin, the hover point and the dense grid answered. Queries are coalesced: at most one per animation
 * frame and never more than one in flight, so hover keeps up with the pointer instead of queueing work.
 */
import { sha256Hex } from '../model/sha256';
import { gridShown, useGallery } from './gallery/gallery';
import { decodeImage, ImageError } from './images';
import { listen, post, worker } from './modelWorker';
import type { MatchSettings, Query, Request, Response, Side } from './protocol';
import { clearImage, notify, queryKey, setImage, settingsKey, swapImages, undoReplace, useStore, type AppState } from './store';

const { getState: get, setState: set } = useStore;

/**
 * Decodes a file into a pane and has the worker encode it (once; later matches reuse the features).
 * `shipped`: the photo's features as the site ships them (an example), read instead of encoding; the photo
 * shows (with the example's first arrows) while they download, beside the model's weights.
 */
export async function openImage(side: Side, file: Blob, name: string, attribution?: string, shipped?: Promise<ArrayBuffer | undefined>) {
  try {
    const [image, digest] = await Promise.all([decodeImage(file, name), file.arrayBuffer().then(sha256Hex)]);
    setImage(side, { ...image, attribution, digest });
    if (!shipped) return encode(side);
    const { version } = get().images[side]!;
    void shipped.then((bytes) => {
      // The photo may have been swapped to the other pane meanwhile, or replaced (its own encode is sent).
      const now = sideOfVersion(get(), version);
      if (now) encode(now, bytes);
    });
  } catch (e) {
    notify('error', e instanceof ImageError ? e.message : `Could not open “${name}”: ${(e as Error).message}`);
  }
}

function encode(side: Side, shipped?: ArrayBuffer) {
  const { version, bitmap, width, height, digest } = get().images[side]!;
  worker.postMessage({ type: 'encode', side, version, bitmap, width, height, digest, shipped } satisfies Request, shipped ? [shipped] : []);
}

/**
 * An example pair's consensus files (`consensusPath`), for its photos (by digest) wherever they now are: the
 * worker adopts them for the first match before the weights arrive.
 */
export function shipConsensus(source: string, target: string, forward: ArrayBuffer, backward: ArrayBuffer) {
  worker.postMessage({ type: 'consensus', source, target, forward, backward } satisfies Request, [forward, backward]);
}

/** Matches can be asked for: the model is ready, or both photos have shipped features (flip needs the weights). */
const matchable = ({ model, images, settings }: AppState) =>
  model.phase === 'ready' || (!!images.source?.shipped && !!images.target?.shipped && !settings.flip);

/** "Undo" after a replacement cleared pins: the old image and its pins come back (encoded again). */
export function undoReplaceImage() {
  const side = undoReplace();
  if (side) encode(side);
}

/** Exchanges source and target; the worker swaps the features too, so nothing is encoded again. */
export function swap() {
  swapImages();
  post({ type: 'swap' });
}

// ---- queries -------------------------------------------------------------------------------------------

/** Who asked each query in flight: a pin id, or the hover. */
type Owner = number | 'hover';

/** Queries slower than this show "Matching…". */
const SLOW_QUERY_MS = 500;

let frame = 0;
let slowTimer = 0;
let inFlight: { id: number; owners: Map<string, Owner>; settings: MatchSettings; denseKey?: string; signature: string } | null = null;
let nextQueryId = 1;
/**
 * Bumped when the worker has the panes' mirror images: every answer is asked again, under the mirror rule
 * (the first answers came without it, to keep the mirrors' encodes out of a click's way).
 */
let mirrorEpoch = 0;
/** The last query that failed: not retried until something it depends on changes. */
let failedSignature = '';

function schedule() {
  if (!frame && !inFlight) frame = requestAnimationFrame(flush);
}

function flush() {
  frame = 0;
  const state = get();
  if (!matchable(state) || !state.images.source || !state.images.target || gridShown(useGallery.getState())) return;
  const owners = new Map<string, Owner>();
  const queries: Query[] = [];
  const ask = (owner: Owner, side: Side, point: Query['point'], answered?: string) => {
    const key = `${queryKey(state, side, point)}|${mirrorEpoch}`;
    if (answered === key) return;
    owners.set(key, owner);
    queries.push({ key, side, point });
  };
  // Pins that show no answer (a fresh click) are asked first, alone: the example's pins, shown with their
  // build-time answers, are asked again after them. Before the wasm backend has started, matching runs on
  // tfjs's cpu backend at about half a second a point, and a click would wait for all of them.
  const unanswered = state.pins.filter((pin) => !pin.result);
  for (const pin of unanswered.length > 0 ? unanswered : state.pins) ask(pin.id, pin.side, pin.point, pin.result?.key);
  if (state.hoverMode && state.hover) ask('hover', state.hover.side, state.hover.point, state.hover.result?.key);
  const denseKey = `${settingsKey(state)}|${mirrorEpoch}`;
  const dense = state.dense && state.denseResult?.key !== denseKey;
  const signature = `${queries.map((q) => q.key).join(';')}|${dense && denseKey}`;
  if ((queries.length === 0 && !dense) || signature === failedSignature) return;

  const id = nextQueryId++;
  inFlight = { id, owners, settings: state.settings, denseKey: dense ? denseKey : undefined, signature };
  slowTimer = window.setTimeout(() => set({ slowQuery: true }), SLOW_QUERY_MS);
  post({ type: 'query', id, settings: state.settings, queries, dense });
}

function settle() {
  clearTimeout(slowTimer);
  inFlight = null;
  if (get().slowQuery) set({ slowQuery: false });
}

function applyResult(response: Extract<Response, { type: 'result' }>) {
  const sent = inFlight!;
  settle();
  // A pin dragged on meanwhile still takes the answer: it is the freshest there is, and a newer one follows.
  const byOwner = new Map(response.results.map((r) => [sent.owners.get(r.key), r]));
  set((s) => ({
    pins: s.pins.map((pin) => (byOwner.has(pin.id) ? { ...pin, result: byOwner.get(pin.id) } : pin)),
    hover: s.hover && byOwner.has('hover') ? { ...s.hover, result: byOwner.get('hover') } : s.hover,
    denseResult: response.dense && sent.denseKey ? { key: sent.denseKey, matches: response.dense } : s.denseResult,
    lastQuery: { ms: response.ms, settings: sent.settings },
  }));
  schedule();
}

useStore.subscribe(schedule);
// Leaving the gallery's grid shows the target pane again: its pins may need answers.
useGallery.subscribe(schedule);

// ---- worker messages ------------------------------------------------------------------------------------

const sideOfVersion = (state: AppState, version: number): Side | undefined =>
  (['source', 'target'] as const).find((side) => state.images[side]?.version === version);

function receive(message: Response) {
  const state = get();
  switch (message.type) {
    case 'progress': {
      const { loaded, total, fromCache } = message.progress;
      const elapsedMs = performance.now() - (state.model.startedAt ?? 0);
      return set({ model: { ...state.model, loaded, total, fromCache, elapsedMs } });
    }
    case 'backend':
      if (message.backend.wasm?.threadsBlocked) {
        notify(
          'info',
          'This page could not start its worker threads (the host blocks them): the model runs on one thread, about 1.5× slower.',
        );
      }
      return set({ model: { ...state.model, backend: message.backend } });
    case 'ready': {
      const { backend, loadMs, fromCache, timings } = message;
      return set({ model: { ...state.model, phase: 'ready', backend, loadMs, fromCache, timings } });
    }
    case 'calibration':
      return set({ model: { ...state.model, bands: message.bands } });
    case 'encoded': {
      post({ type: 'stats' });
      const side = sideOfVersion(state, message.version);
      if (!side) return;
      const image = state.images[side]!;
      return set({ images: { ...state.images, [side]: { ...image, encodeMs: message.ms, shipped: message.shipped } } });
    }
    case 'encode-progress': {
      const side = sideOfVersion(state, message.version);
      if (!side) return;
      return set({ images: { ...state.images, [side]: { ...state.images[side]!, encodeProgress: message.fraction } } });
    }
    case 'result':
      return applyResult(message);
    case 'stats':
      return set({ memory: { tensors: message.tensors, bytes: message.bytes } });
    case 'mirrors-ready':
      mirrorEpoch++;
      post({ type: 'stats' });
      return schedule();
    case 'fallback':
      set({ model: { ...state.model, backend: message.backend, message: message.reason } });
      return notify('info', `${message.reason}. Switched to ${message.backend.name.toUpperCase()}.`);
    case 'error':
      if (message.id !== undefined) {
        failedSignature = inFlight?.signature ?? '';
        settle();
        return notify('error', `Matching failed: ${message.message}`);
      }
      if (message.version !== undefined) {
        const side = sideOfVersion(state, message.version);
        if (side) clearImage(side);
        return notify('error', `Could not encode the ${message.side} image: ${message.message}`);
      }
      return set({ model: { ...state.model, phase: 'error', message: message.message } });
  }
}

// Last: the messages that came in before the app's chunk ran are handled at once, by the code above.
listen(receive, (message) => set({ model: { ...get().model, phase: 'error', message: `The model worker stopped: ${message}` } }));
