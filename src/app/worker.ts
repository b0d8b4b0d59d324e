/**
 * The model runs here, off the main thread: an encode takes about a second on wasm (far longer on a
 * software GPU) and would otherwise freeze the page. Messages are handled one at a time, in order, so a
 * query sent after a new image always sees that image's features.
 */
import { startMatchingBackend } from '../model/backend';
import { SCALE_INDICES } from '../model/constants';
import { nextTask } from '../model/weights';
import {
  BACKEND_ORDER,
  downloadModel,
  loadMMNet,
  Matcher,
  memory,
  MMNetError,
  readFeatures,
  selectBackend,
  type BackendName,
  type Features,
  type MatchQuery,
  type MatchOptions,
  type MMNet,
  type ModelDownload,
  type ModelMetadata,
  type Point,
  type TrunkEncoder,
  type TrunkFeatures,
} from '../model/index';
import { bandsOf } from './confidence/bands';
import { toCorrespondence, toEncoded, toOriginal } from './correspondence';
import { startDequantizer } from './dequantizer';
import { denseGrid } from './geometry';
import {
  MODEL_CACHE,
  otherSide,
  type GalleryImage,
  type MatchSettings,
  type QueryResult,
  type Request,
  type Response,
  type ScaleRow,
  type Side,
} from './protocol';

interface Slot {
  bitmap: ImageBitmap;
  features: Features;
  digest: string;
  /** Original size; the encoded bitmap may be a downscaled copy. */
  width: number;
  height: number;
}

type LoadRequest = Extract<Request, { type: 'load' }>;

// Typed with the DOM lib (the webworker lib cannot be loaded beside it); `self` is the worker scope.
const post = (message: Response) => self.postMessage(message);

let model: MMNet | undefined;
/** The load under way: encodes wait for it; matching shipped features needs only the backend. */
let modelLoading: Promise<MMNet> | undefined;
/** The loading model's trunk, once its weights are made (undefined if the model was ready first, or failed). */
let trunkEncoder: Promise<TrunkEncoder | undefined> | undefined;
/** Settles once the queue has started the load (`load`), which sets `trunkEncoder`. */
let loadStarted: Promise<void> | undefined;
/** Photos that came before the model, by version: their trunk, run while the weights download. */
const earlyTrunks = new Map<number, Promise<TrunkFeatures | undefined>>();
/** Started first, so shipped features can be read while the weights download. */
let backendStarted: ReturnType<typeof selectBackend> | undefined;
/** Ready at once (cpu): shipped features are read and matched there while `backendStarted` is under way. */
let matchingStarted: Promise<void> | undefined;
let loadRequest: LoadRequest | undefined;
/** Matching before the weights arrive, with the model's constants (read from model.json first). */
let earlyMatcher: Promise<Matcher> | undefined;
let metadata: ModelMetadata | undefined;
const slots: Partial<Record<Side, Slot>> = {};
/** Gallery targets by digest, kept until removed; one may also be the target pane's slot. */
const gallery = new Map<string, Slot>();
/** Gallery targets waiting to be encoded. */
let galleryQueue: GalleryImage[] = [];
let galleryEncoding = false;
let queue = Promise.resolve();

/** The model's download the worker's entry started before this code arrived; taken by the first load. */
let prefetched: ModelDownload | undefined;

/** Takes the worker's messages over from its entry (worker-entry.ts): those it kept, then each as it comes. */
export function takeOver(download: ModelDownload | undefined, earlier: readonly Request[]) {
  prefetched = download;
  self.onmessage = ({ data }: MessageEvent<Request>) => receive(data);
  for (const request of earlier) receive(request);
}

function receive(data: Request) {
  // The gallery's queue is managed on arrival: a cancel must not wait behind the encodes it cancels.
  if (data.type === 'gallery-add') {
    galleryQueue.push(...data.images);
    return encodeNextGalleryImage();
  }
  if (data.type === 'gallery-cancel') {
    const dropped = galleryQueue;
    galleryQueue = [];
    for (const image of dropped) image.bitmap.close();
    return post({ type: 'gallery-cancelled', digests: dropped.map((image) => image.digest) });
  }
  if (data.type === 'gallery-remove') {
    const removed = galleryQueue.filter((image) => data.digests.includes(image.digest));
    galleryQueue = galleryQueue.filter((image) => !data.digests.includes(image.digest));
    for (const image of removed) image.bitmap.close();
  }
  // A photo's trunk starts on arrival, not in the queue, where it would wait behind the photo before it.
  if (data.type === 'encode' && !data.shipped) startTrunk(data);
  enqueue(data);
  if (data.type === 'load') loadStarted = queue;
}

const enqueue = (request: Request) => {
  queue = queue.then(() => handle(request)).catch((e: unknown) => post(errorResponse(e, request)));
};

/**
 * One gallery encode at a time, each queued behind the messages waiting by then, so matches keep flowing
 * and a cancel lands. The wait for a new task is what lets them in: on wasm a whole chain of encodes would
 * otherwise run in microtasks and no message event could fire until the queue ran dry.
 */
function encodeNextGalleryImage() {
  if (galleryEncoding || galleryQueue.length === 0) return;
  galleryEncoding = true;
  setTimeout(encodeGalleryImage);
}

function encodeGalleryImage() {
  const next = galleryQueue.shift();
  if (!next) {
    galleryEncoding = false;
    return;
  }
  const { digest, bitmap, width, height } = next;
  queue = queue
    .then(async () => {
      const start = performance.now();
      const features = await withFallback(() => encodeBitmap(bitmap));
      gallery.set(digest, { bitmap, features, width, height, digest });
      post({ type: 'gallery-encoded', digest, ms: performance.now() - start });
      post(stats());
    })
    .catch((e: unknown) => {
      bitmap.close();
      post({ type: 'gallery-error', digest, message: e instanceof Error ? e.message : String(e) });
    })
    .finally(() => {
      galleryEncoding = false;
      encodeNextGalleryImage();
    });
}

async function handle(request: Request): Promise<void> {
  switch (request.type) {
    case 'load':
      // Not awaited: messages that need only the backend (shipped features, their matches) go on meanwhile.
      loadRequest = request;
      load(request.backends).catch((e: unknown) => post(errorResponse(e, request)));
      return;
    case 'encode':
      return encode(request);
    case 'swap':
      [slots.source, slots.target] = [slots.target, slots.source];
      return;
    case 'consensus':
      // Only the example just opened matters: an earlier one's files, never adopted, go.
      shippedConsensus.clear();
      shippedConsensus.set(`${request.source}>${request.target}`, request.forward);
      shippedConsensus.set(`${request.target}>${request.source}`, request.backward);
      return;
    case 'query':
      return withFallback(() => query(request));
    case 'stats':
      return post(stats());
    case 'gallery-remove':
      return removeGalleryImages(request.digests);
    case 'gallery-match':
      return withFallback(() => galleryMatch(request));
    case 'gallery-open':
      return openGalleryImage(request);
    case 'scales':
      return withFallback(() => scaleRows(request)).catch((e: unknown) =>
        post({ type: 'scales', id: request.id, rows: [], error: e instanceof Error ? e.message : String(e) }),
      );
  }
}

function stats(): Response {
  const { numTensors, numBytes } = memory();
  return { type: 'stats', tensors: numTensors, bytes: numBytes };
}

/** Download progress reaches the page at most this often: a message per 64 KB would keep its main thread re-rendering. */
const PROGRESS_INTERVAL_MS = 100;

function load(backends?: readonly BackendName[]): Promise<MMNet> {
  const start = performance.now();
  let lastProgress = -Infinity;
  const { wasmPaths, threads } = loadRequest!;
  matchingStarted = startMatchingBackend();
  backendStarted = selectBackend({ backend: backends, wasmPaths, threads });
  const download = prefetched ?? downloadModel(loadRequest!.modelUrl, { cacheName: MODEL_CACHE });
  prefetched = undefined;
  // model.json alone (a few kB) is enough to match shipped features: its constants arrive long before the weights.
  earlyMatcher = download.model.then(({ metadata: m }) => {
    metadata = m;
    post({ type: 'calibration', bands: bands() });
    return new Matcher(m);
  });
  // A model.json that cannot be read is reported by the load itself.
  earlyMatcher.catch(() => undefined);
  backendStarted.then(
    (backend) => post({ type: 'backend', backend }),
    () => undefined,
  );
  let trunkIn!: (trunk: TrunkEncoder | undefined) => void;
  trunkEncoder = new Promise((done) => (trunkIn = done));
  const dequantizer = startDequantizer();
  modelLoading = loadMMNet(loadRequest!.modelUrl, {
    backend: backends,
    backendStarted,
    wasmPaths,
    threads,
    download,
    dequantizeElsewhere: dequantizer?.dequantize,
    onTrunk: trunkIn,
    onProgress: (progress) => {
      const now = performance.now();
      if (now - lastProgress < PROGRESS_INTERVAL_MS && progress.loaded < progress.total) return;
      lastProgress = now;
      post({ type: 'progress', progress });
    },
  }).then((loaded) => {
    model = loaded;
    post({
      type: 'ready',
      backend: loaded.backend,
      loadMs: performance.now() - start,
      fromCache: loaded.fromCache,
      timings: loaded.loadTimings,
    });
    warmHead(loaded.headWarmUps());
    // The example's pins were answered before the weights, by the early matcher: the model's own does the pair's
    // one-off work now, and the mirror rule can look at them.
    preparePanes();
    encodeMirrors();
    return loaded;
  });
  const loaded = () => {
    // Settles the wait for the trunk if it never came (no-op if it did).
    trunkIn(undefined);
    dequantizer?.close();
  };
  modelLoading.then(loaded, loaded);
  return modelLoading;
}

/** The longest an encode or a click that arrives during the head's warm-ups waits for them. */
const WARM_SLICE_MS = 50;

/**
 * The head's operators, built right after the load (`MMNet.headWarmUps`) while the page is still opening
 * the photos, in slices of tasks on the queue: an encode that arrives meanwhile waits for one slice and
 * finds the rest done or does it itself.
 */
function warmHead(steps: (() => void)[]) {
  if (steps.length === 0) return;
  queue = queue
    .then(() => {
      const start = performance.now();
      while (steps.length > 0 && performance.now() - start < WARM_SLICE_MS) steps.shift()!();
    })
    // A failing backend is the next encode's to report (and fall back from); the rest would fail too.
    .catch(() => {
      steps.length = 0;
    })
    .finally(() => setTimeout(() => warmHead(steps)));
}

type EncodeRequest = Extract<Request, { type: 'encode' }>;

async function encode({ side, version, bitmap, width, height, digest, shipped }: EncodeRequest) {
  const start = performance.now();
  const trunk = earlyTrunks.get(version);
  earlyTrunks.delete(version);
  const other = slots[otherSide(side)];
  release(side);
  try {
    const features =
      other?.digest === digest
        ? other.features
        : ((await readShipped(shipped, bitmap)) ?? (await withFallback(() => encodeBitmap(bitmap, reportProgress(version), trunk))));
    slots[side] = { bitmap, features, width, height, digest };
    post({ type: 'encoded', side, version, ms: performance.now() - start, shipped: shippedFeatures.has(features) });
    preparePanes();
  } finally {
    // A trunk the encode did not use (the photo shared, or the encode failed) is freed when it is done.
    void trunk?.then(
      (t) => t?.dispose(),
      () => undefined,
    );
  }
}

/**
 * Before the model is ready, a photo's trunk runs unit by unit as the weights are made (the head's come
 * last), beside any other photo's, reporting its progress; its encode in the queue then runs the head alone.
 */
function startTrunk({ version, bitmap }: EncodeRequest) {
  if (model) return;
  // Messages that came before the worker's code are handed over at once (`takeOver`): a photo among them
  // finds the load still queued, and its trunk waits for the load to start (not for the queue after it).
  const encoder = trunkEncoder ?? loadStarted?.then(() => trunkEncoder);
  if (!encoder) return;
  const trunk = encoder.then((early) =>
    // The model may be in by now: the photo's encode in the queue then runs whole.
    early && !model ? early.encodeTrunk(bitmap, { onProgress: reportProgress(version) }) : undefined,
  );
  // A failed trunk is the photo's encode's to notice (it then encodes whole, or reports the load's failure).
  trunk.catch(() => undefined);
  earlyTrunks.set(version, trunk);
}

/** Features that came with the site: matchable before the model has loaded. */
const shippedFeatures = new WeakSet<Features>();

/** Shipped features on the started backend; undefined (the photo is then encoded) where they cannot be read. */
async function readShipped(bytes: ArrayBuffer | undefined, bitmap: ImageBitmap): Promise<Features | undefined> {
  if (!bytes) return undefined;
  try {
    await matchingStarted;
    const features = await readFeatures(bytes, bitmap);
    shippedFeatures.add(features);
    return features;
  } catch {
    return undefined;
  }
}

/** Steps of an encode's progress the page hears of (each a re-render there). */
const PROGRESS_STEPS = 10;

/** An encode's progress for the page, in `PROGRESS_STEPS` steps. */
function reportProgress(version: number) {
  let step = 0;
  return (fraction: number) => {
    if (Math.floor(fraction * PROGRESS_STEPS) <= step) return;
    step = Math.floor(fraction * PROGRESS_STEPS);
    post({ type: 'encode-progress', version, fraction });
  };
}

/** `trunk`: the photo's early trunk, if it has one (a failed one, or one used by an earlier try, is run again). */
async function encodeBitmap(
  bitmap: ImageBitmap,
  onProgress?: (fraction: number) => void,
  trunk?: Promise<TrunkFeatures | undefined>,
): Promise<Features> {
  const early = await trunk?.catch(() => undefined);
  const features = await (await loadedModel()).encode(early && !early.used ? early : bitmap, { onProgress });
  // GPU backends return before the work is done; wait for the last map so the time (and "ready") is true.
  const probe = features.featureMap(1);
  await probe.data();
  probe.dispose();
  return features;
}

/** An example pair's consensus files, by `source digest>target digest` (`consensus` requests), until adopted. */
const shippedConsensus = new Map<string, ArrayBuffer>();

/**
 * Before the weights, the panes' pair takes the site's consensus files for it, both ways, into the matcher
 * that answers then: the first match skips the pair's one-off work, seconds on tfjs's cpu backend.
 */
async function adoptShippedConsensus(source: Slot, target: Slot) {
  if (model || !earlyMatcher || shippedConsensus.size === 0) return;
  const matcher = await earlyMatcher;
  for (const [from, to] of [
    [source, target],
    [target, source],
  ]) {
    const key = `${from.digest}>${to.digest}`;
    const file = shippedConsensus.get(key);
    shippedConsensus.delete(key);
    // A file that cannot be read, or of other constants, is no loss: the pair is computed as for any photos.
    if (file) {
      try {
        matcher.adoptConsensus(from.features, to.features, file);
      } catch {
        /* computed instead */
      }
    }
  }
}

async function query({ id, settings, queries, dense }: Extract<Request, { type: 'query' }>): Promise<void> {
  const start = performance.now();
  const results: QueryResult[] = [];
  if (!slots.source || !slots.target) throw new MMNetError('bad-argument', 'both images must be encoded first');
  await adoptShippedConsensus(slots.source, slots.target);
  for (const side of ['source', 'target'] as const) {
    const asked = queries.filter((q) => q.side === side);
    const found = await correspond(
      side,
      asked.map((q) => q.point),
      settings,
      true,
    );
    found.forEach((c, n) => results.push({ key: asked[n].key, ...c }));
  }
  // The dense view is an overview: the pair's global geometry serves it, where the query-centred histogram
  // would recast the votes for each of its hundreds of points (about 1 s on wasm against 0.14 s).
  const grid = dense
    ? await correspond('source', denseGrid(slots.source.width, slots.source.height), { ...settings, local: false }, false)
    : undefined;
  post({ type: 'result', id, ms: performance.now() - start, results, dense: grid });
  encodeMirrors();
}

/** Coarse to fine: how MMNet's pyramid refines a match. */
const COARSE_TO_FINE = [...SCALE_INDICES].reverse();

/** One point's row at every scale, from MMNet's head (the fused prior has no scale 4), in one message. */
async function scaleRows({ id, side, point, flip }: Extract<Request, { type: 'scales' }>): Promise<void> {
  const from = slots[side];
  const to = slots[otherSide(side)];
  if (!from || !to) throw new MMNetError('bad-argument', 'both images must be encoded first');
  const query = [{ source: from.features, target: to.features, points: [toEncoded(point, from)] }];
  const rows: ScaleRow[] = [];
  for (const scale of COARSE_TO_FINE) {
    const [[found]] = await matchMany(query, { mode: 'mmnet', scale, flip, heatmap: true });
    rows.push({ scale, heatmap: found.heatmap!, match: toOriginal(found.target, to), probability: found.probability });
  }
  post({ type: 'scales', id, rows });
}

/**
 * The panes match objects facing opposite ways (the library's consensus with its mirror rule), though the
 * library leaves the rule off: it costs an encode of each image's mirror and needs the weights for it. Those
 * encodes stay out of a click's way: a pair is matched plainly until both mirrors are in (encoded after its
 * first answer, `encodeMirrors`), then the page asks again and an arrow moves where the rule flips it. The
 * gallery keeps to plain matching: the rule would double its encodes.
 */
const mirrorRule = () => model !== undefined && !!slots.source?.features.hasMirror && !!slots.target?.features.hasMirror;

/**
 * The panes' pair's one-off work (`MMNet.prepare`, its consensus both ways) after the requests already queued
 * (a second photo dropped with the first is encoded first), so that the pair's first click costs what the next
 * do. A click that comes sooner waits for it, as it would have done the work itself.
 */
function preparePanes() {
  queue = queue
    .then(() => {
      const pair = panesPair();
      return model && pair ? model.prepare(...pair) : undefined;
    })
    // The first click then does the work, or reports what fails.
    .catch(() => undefined);
}

/** The pair whose mirrors are being encoded; undefined when none is. */
let mirrorsFor: [Features, Features] | undefined;

const panesPair = (): [Features, Features] | undefined =>
  slots.source && slots.target ? [slots.source.features, slots.target.features] : undefined;

/**
 * After the panes' first answer, their mirror images are encoded in the background, a trunk unit at a time
 * beside the queue: what the page asks meanwhile (a click, an encode) runs between two units, so it waits
 * for one unit (tens of ms on wasm), not a whole encode. Then the page hears `mirrors-ready` and asks again.
 * A new image in a pane ends it; the new pair's mirrors start then if both its panes are encoded, else at its
 * first answer.
 */
function encodeMirrors() {
  const pair = panesPair();
  if (mirrorsFor || !model || !pair || mirrorRule()) return;
  mirrorsFor = pair;
  const current = () => pair.every((features, k) => features === panesPair()?.[k]);
  const between = async () => {
    // A task, so that the page's messages come in, and the queue, so that what they asked runs first.
    await nextTask();
    await queue;
    if (!current()) throw new MMNetError('bad-argument', "a pane's image changed");
  };
  void (async () => {
    for (const features of pair) if (!features.hasMirror) await model!.encodeMirror(features, { between });
    if (mirrorRule()) post({ type: 'mirrors-ready' });
  })()
    // The panes stay matched plainly: still an answer, without the rule for objects facing opposite ways.
    .catch(() => undefined)
    .finally(() => {
      mirrorsFor = undefined;
      if (!current()) encodeMirrors();
    });
}

const correspond = async (side: Side, points: Point[], settings: MatchSettings & Pick<MatchOptions, 'local'>, heatmap: boolean) =>
  (await correspondMany(slots[side]!, [slots[otherSide(side)]!], points, { ...settings, mirror: mirrorRule() }, heatmap))[0];

/**
 * Matches points of one image on each of the others in one batched model call, which also matches the
 * answers back (the forward–backward check) and rates them (`confidence`).
 */
async function correspondMany(from: Slot, targets: Slot[], points: Point[], settings: MatchOptions, heatmap: boolean) {
  if (points.length === 0) return targets.map(() => []);
  const asked = points.map((p) => toEncoded(p, from));
  const found = await matchMany(
    targets.map((to) => ({ source: from.features, target: to.features, points: asked })),
    { ...settings, heatmap },
  );
  // The encoded bitmap may be a downscaled copy: back to original pixels.
  return targets.map((to, t) => found[t].map((f, n) => ({ ...toCorrespondence(f, points[n], from, to, bands()), heatmap: f.heatmap })));
}

// ---- gallery --------------------------------------------------------------------------------------------

async function galleryMatch({ id, settings, points, digests }: Extract<Request, { type: 'gallery-match' }>): Promise<void> {
  const start = performance.now();
  const source = slots.source;
  if (!source) throw new MMNetError('bad-argument', 'the source image must be encoded first');
  const held = digests.filter((digest) => gallery.has(digest));
  const found = await correspondMany(
    source,
    held.map((digest) => gallery.get(digest)!),
    points,
    settings,
    false,
  );
  const results = held.map((digest, t) => ({ digest, matches: found[t] }));
  const headVersion = (await loadedModel()).metadata.head.version;
  post({ type: 'gallery-matched', id, ms: performance.now() - start, headVersion, results });
}

function removeGalleryImages(digests: string[]) {
  for (const digest of digests) {
    const slot = gallery.get(digest);
    gallery.delete(digest);
    if (slot) dispose(slot);
  }
  post(stats());
}

function openGalleryImage({ digest, version }: Extract<Request, { type: 'gallery-open' }>) {
  const slot = gallery.get(digest);
  if (!slot) throw new MMNetError('bad-argument', 'that gallery image is not encoded');
  release('target');
  slots.target = slot;
  post({ type: 'encoded', side: 'target', version, ms: 0, shipped: false });
}

/** Empties a pane's slot, freeing what nothing else (the other pane, the gallery) still holds. */
function release(side: Side) {
  const slot = slots[side];
  slots[side] = undefined;
  if (slot) dispose(slot);
}

function dispose(slot: Slot) {
  const held = [slots.source, slots.target, ...gallery.values()];
  if (held.includes(slot)) return;
  if (!held.some((s) => s?.features === slot.features)) slot.features.dispose();
  if (!held.some((s) => s?.bitmap === slot.bitmap)) slot.bitmap.close();
}

/** The model, once loaded (work that needs the weights waits for the load under way). */
async function loadedModel(): Promise<MMNet> {
  if (model) return model;
  if (!modelLoading) throw new MMNetError('model-load', 'the model is not loaded');
  return modelLoading;
}

/** Matching needs the weights only for flip and the mirror rule: before the load, shipped features are matched on their own. */
async function matchMany(queries: readonly MatchQuery[], options: MatchOptions) {
  if (model) return model.matchMany(queries, options);
  if (!earlyMatcher) throw new MMNetError('model-load', 'the model is not loaded');
  return (await earlyMatcher).matchMany(queries, options);
}

/** The calibration's bands, once model.json is in. */
const bands = () => bandsOf(model?.metadata ?? metadata);

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
    // Slots sharing features (the same image in both panes, a gallery image opened) are encoded once.
    const holders = new Map<Features, Slot[]>();
    for (const slot of new Set([slots.source, slots.target, ...gallery.values()])) {
      if (slot) holders.set(slot.features, [...(holders.get(slot.features) ?? []), slot]);
    }
    // Freeing memory on a dead backend may throw too; it is being abandoned either way.
    ignoreErrors(() => model!.dispose());
    for (const features of holders.keys()) ignoreErrors(() => features.dispose());
    model = undefined;
    await load(rest);
    for (const shared of holders.values()) {
      const features = await encodeBitmap(shared[0].bitmap);
      for (const slot of shared) slot.features = features;
    }
    post({ type: 'fallback', backend: (await loadedModel()).backend, reason: `${failed} failed: ${(e as Error).message}` });
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
  if (request.type === 'gallery-match' || request.type === 'gallery-remove') {
    return { type: 'gallery-error', message, ...(request.type === 'gallery-match' && { id: request.id }) };
  }
  if (request.type === 'gallery-open') return { type: 'error', code, message, side: 'target', version: request.version };
  return {
    type: 'error',
    code,
    message,
    ...(request.type === 'encode' && { side: request.side, version: request.version }),
    ...(request.type === 'query' && { id: request.id }),
  };
}
