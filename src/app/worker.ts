/**
 * The model runs here, off the main thread: an encode takes about a second on wasm (far longer on a
 * software GPU) and would otherwise freeze the page. Messages are handled one at a time, in order, so a
 * query sent after a new image always sees that image's features.
 */
import { BACKEND_ORDER, loadMMNet, memory, MMNetError, type BackendName, type Features, type MMNet, type Point } from '../model/index';
import { denseGrid, distance, isConsistent } from './geometry';
import { otherSide, type MatchSettings, type QueryResult, type Request, type Response, type Side } from './protocol';

interface Slot {
  bitmap: ImageBitmap;
  features: Features;
  digest: string;
  /** Original size; the encoded bitmap may be a downscaled copy. */
  width: number;
  height: number;
}

type LoadRequest = Extract<Request, { type: 'load' }>;

const MODEL_CACHE = 'mmnet-web-models';

// Typed with the DOM lib (the webworker lib cannot be loaded beside it); `self` is the worker scope.
const post = (message: Response) => self.postMessage(message);

let model: MMNet | undefined;
let loadRequest: LoadRequest | undefined;
const slots: Partial<Record<Side, Slot>> = {};
let queue = Promise.resolve();

self.onmessage = ({ data }: MessageEvent<Request>) => {
  queue = queue.then(() => handle(data)).catch((e: unknown) => post(errorResponse(e, data)));
};

async function handle(request: Request): Promise<void> {
  switch (request.type) {
    case 'load':
      loadRequest = request;
      return load(request.backends);
    case 'encode':
      return encode(request);
    case 'swap':
      [slots.source, slots.target] = [slots.target, slots.source];
      return;
    case 'query':
      return withFallback(() => query(request));
    case 'stats': {
      const { numTensors, numBytes } = memory();
      return post({ type: 'stats', tensors: numTensors, bytes: numBytes });
    }
  }
}

async function load(backends?: readonly BackendName[]): Promise<void> {
  const start = performance.now();
  model = await loadMMNet(loadRequest!.modelUrl, {
    backend: backends,
    wasmPaths: loadRequest!.wasmPaths,
    // Weight files are kept in Cache Storage by their sha256: a second visit downloads nothing.
    cacheName: MODEL_CACHE,
    onProgress: (progress) => post({ type: 'progress', progress }),
  });
  post({ type: 'ready', backend: model.backend, loadMs: performance.now() - start, fromCache: model.fromCache });
}

async function encode({ side, version, bitmap, width, height, digest }: Extract<Request, { type: 'encode' }>) {
  const start = performance.now();
  const previous = slots[side];
  const other = slots[otherSide(side)];
  slots[side] = undefined;
  if (previous && previous.features !== other?.features) previous.features.dispose();
  previous?.bitmap.close();
  const features =
    other?.digest === digest ? other.features : await withFallback(() => encodeBitmap(bitmap));
  slots[side] = { bitmap, features, width, height, digest };
  post({ type: 'encoded', side, version, ms: performance.now() - start });
}

async function encodeBitmap(bitmap: ImageBitmap): Promise<Features> {
  const features = await requireModel().encode(bitmap);
  // GPU backends return before the work is done; wait for the last map so the time (and "ready") is true.
  const probe = features.featureMap(1);
  await probe.data();
  probe.dispose();
  return features;
}

async function query({ id, settings, queries, dense }: Extract<Request, { type: 'query' }>): Promise<void> {
  const start = performance.now();
  const results: QueryResult[] = [];
  if (!slots.source || !slots.target) throw new MMNetError('bad-argument', 'both images must be encoded first');
  for (const side of ['source', 'target'] as const) {
    const asked = queries.filter((q) => q.side === side);
    const found = await correspond(side, asked.map((q) => q.point), settings, true);
    found.forEach((c, n) => results.push({ key: asked[n].key, ...c }));
  }
  const grid = dense ? await correspond('source', denseGrid(slots.source.width, slots.source.height), settings, false) : undefined;
  post({ type: 'result', id, ms: performance.now() - start, results, dense: grid });
}

/** Matches points of one side on the other, then matches the answers back (the forward–backward check). */
async function correspond(side: Side, points: Point[], settings: MatchSettings, heatmap: boolean) {
  if (points.length === 0) return [];
  const from = slots[side]!;
  const to = slots[otherSide(side)]!;
  const m = requireModel();
  const forward = await m.match(from.features, to.features, points.map((p) => toEncoded(p, from)), { ...settings, heatmap });
  const backward = await m.match(to.features, from.features, forward.map((f) => f.target), settings);
  return forward.map((f, n) => {
    const backError = distance(toOriginal(backward[n].target, from), points[n]);
    return {
      query: points[n],
      match: toOriginal(f.target, to),
      probability: f.probability,
      backError,
      consistent: isConsistent(backError, from.width, from.height),
      heatmap: f.heatmap,
    };
  });
}

const toEncoded = (p: Point, slot: Slot): Point => ({
  x: (p.x * slot.features.width) / slot.width,
  y: (p.y * slot.features.height) / slot.height,
});

const toOriginal = (p: Point, slot: Slot): Point => ({
  x: (p.x * slot.width) / slot.features.width,
  y: (p.y * slot.height) / slot.features.height,
});

function requireModel(): MMNet {
  if (!model) throw new MMNetError('model-load', 'the model is not loaded');
  return model;
}

/**
 * A backend can die mid-way (a lost GPU context, an out-of-memory device): reload on the next backend,
 * re-encode the images, say so, and try the work once more.
 */
async function withFallback<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (!model || (e instanceof MMNetError && e.code !== 'backend')) throw e;
    const failed = model.backend.name;
    const order = loadRequest!.backends ?? BACKEND_ORDER;
    const rest = order.slice(order.indexOf(failed) + 1);
    if (rest.length === 0) throw e;
    const { source, target } = slots;
    // Freeing memory on a dead backend may throw too; it is being abandoned either way.
    ignoreErrors(() => model!.dispose());
    for (const slot of [source, target]) ignoreErrors(() => slot?.features.dispose());
    model = undefined;
    await load(rest);
    if (source) source.features = await encodeBitmap(source.bitmap);
    if (target) {
      const same = source && target.digest === source.digest;
      target.features = same ? source.features : await encodeBitmap(target.bitmap);
    }
    post({ type: 'fallback', backend: requireModel().backend, reason: `${failed} failed: ${(e as Error).message}` });
    return work();
  }
}

function ignoreErrors(work: () => void) {
  try {
    work();
  } catch {
    // see the caller
  }
}

function errorResponse(e: unknown, request: Request): Response {
  const code = e instanceof MMNetError ? e.code : 'backend';
  const message = e instanceof Error ? e.message : String(e);
  return {
    type: 'error',
    code,
    message,
    ...(request.type === 'encode' && { side: request.side, version: request.version }),
    ...(request.type === 'query' && { id: request.id }),
  };
}
