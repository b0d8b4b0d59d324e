/** The app's state (zustand) and the small actions that change it. The engine reacts to it. */
import { create } from 'zustand';
import type { BackendReport, LoadTimings, Point } from '../model/types';
import type { Bands } from './confidence/bands';
import { DEFAULT_SETTINGS, otherSide, type Correspondence, type MatchSettings, type QueryResult, type Side } from './protocol';

export interface PaneImage {
  name: string;
  /** Original size after EXIF orientation; every coordinate in the app is in these pixels. */
  width: number;
  height: number;
  /** What is shown and encoded: the image itself, or a downscaled copy of a huge one. */
  bitmap: ImageBitmap;
  /** Bumped on every load and swap: answers computed for an older version are stale. */
  version: number;
  encodeMs?: number;
  /** How far its encode has come (0–1), while it runs. */
  encodeProgress?: number;
  attribution?: string;
  /** SHA-256 of the file: lets the worker share one encode between panes showing the same image. */
  digest: string;
  /** Its features came with the site (an example): it is matched before the model has loaded. */
  shipped?: boolean;
}

export interface Pin {
  id: number;
  /** The pane the pin was placed on: a target pin queries the reverse direction. */
  side: Side;
  point: Point;
  color: string;
  /** What the person called it (exports carry it); empty until renamed. */
  name: string;
  result?: QueryResult;
}

export interface Hover {
  side: Side;
  point: Point;
  result?: QueryResult;
}

export interface ModelStatus {
  phase: 'loading' | 'ready' | 'error';
  loaded: number;
  total: number;
  /** `performance.now()` when the load began. */
  startedAt?: number;
  /** Time from then to the latest progress (the download's rate gives the time left). */
  elapsedMs?: number;
  loadMs?: number;
  /** Where the load's time went (the worker's `loadMMNet`). */
  timings?: LoadTimings;
  /** The weights came from the browser's cache, not the network (now, or for the progress so far). */
  fromCache?: boolean;
  backend?: BackendReport;
  /** Why the model is unusable, or which backend failed mid-way. */
  message?: string;
  /** Where the confidence's words change (the model's calibration). */
  bands?: Bands;
}

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
  /** The notice offers to undo the last image replacement (see `undoReplace`). */
  undo?: boolean;
}

/** An image replaced while pins sat on it: kept until its notice goes, so "Undo" loses nothing. */
export interface Replaced {
  side: Side;
  image: PaneImage;
  pins: Pin[];
  selectedPin: number | null;
  notice: number;
}

/** Warp: the source redrawn where it lands; colours: each source region's colour where it lands; lines. */
export type DenseView = 'warp' | 'colours' | 'lines';

export interface AppState {
  model: ModelStatus;
  images: Record<Side, PaneImage | null>;
  settings: MatchSettings;
  pins: Pin[];
  selectedPin: number | null;
  hoverMode: boolean;
  hover: Hover | null;
  dense: boolean;
  /** How the dense matches are drawn while `dense` is on. */
  denseView: DenseView;
  /** The selected pin's heat maps at every scale, side by side (see `scales/`). */
  scalesShown: boolean;
  /** Grid matches and the settings key they were computed for. */
  denseResult: { key: string; matches: Correspondence[] } | null;
  heatOpacity: number;
  /** Duration of the last query round trip in the worker, and the settings that produced what is shown. */
  lastQuery?: { ms: number; settings: MatchSettings };
  notices: Notice[];
  /** A query has been running for a while (a progress hint). */
  slowQuery: boolean;
  /** The worker's tensor memory after the last encode (a leak shows as growth). */
  memory?: { tensors: number; bytes: number };
  replaced: Replaced | null;
}

export const useStore = create<AppState>()(() => ({
  model: { phase: 'loading', loaded: 0, total: 0 },
  images: { source: null, target: null },
  settings: DEFAULT_SETTINGS,
  pins: [],
  selectedPin: null,
  hoverMode: false,
  hover: null,
  dense: false,
  denseView: 'warp',
  scalesShown: false,
  denseResult: null,
  heatOpacity: 0.6,
  notices: [],
  slowQuery: false,
  replaced: null,
}));

const set = useStore.setState;
const get = useStore.getState;

/** Everything an answer depends on besides its query point. */
export function settingsKey({ images, settings }: AppState): string {
  return `${images.source?.version}:${images.target?.version}:${settings.mode}:${settings.scale}:${settings.flip}`;
}

export const queryKey = (state: AppState, side: Side, point: Point) => `${settingsKey(state)}|${side}|${point.x},${point.y}`;

/**
 * Sixteen colours far apart from each other and from photo tones (Trubetskoy's list, greys and the pale
 * ones left out), so a dozen pins never share one; the number drawn on each pin tells the rest apart.
 */
const PIN_COLORS = [
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#bfef45',
  '#ffe119',
  '#469990',
  '#9a6324',
  '#800000',
  '#aaffc3',
  '#808000',
  '#000075',
  '#fabed4',
];

/** Pin `id`'s colour: the palette's in order, so a page's pins always get the same colours. */
export const pinColor = (id: number) => PIN_COLORS[(id - 1) % PIN_COLORS.length];

let nextPinId = 1;
let nextNoticeId = 1;

export function addPin(side: Side, point: Point) {
  const id = nextPinId++;
  set((s) => ({ pins: [...s.pins, { id, side, point, color: pinColor(id), name: '' }], selectedPin: id }));
}

/** What a pin is called wherever it is shown or exported. */
export const pinLabel = (pin: Pick<Pin, 'id' | 'name'>) => pin.name.trim() || `pin ${pin.id}`;

export function renamePin(id: number, name: string) {
  set((s) => ({ pins: s.pins.map((p) => (p.id === id ? { ...p, name } : p)) }));
}

export function movePin(id: number, point: Point) {
  set((s) => ({ pins: s.pins.map((p) => (p.id === id ? { ...p, point } : p)) }));
}

export function deletePin(id: number) {
  set((s) => ({ pins: s.pins.filter((p) => p.id !== id), selectedPin: s.selectedPin === id ? null : s.selectedPin }));
}

export const clearPins = () => set({ pins: [], selectedPin: null });
export const selectPin = (id: number | null) => set({ selectedPin: id });

export const selectedPin = (s: AppState) => s.pins.find((p) => p.id === s.selectedPin);

/** The query whose answer is inspected (heat map, readout): the hover in hover mode, else the selected pin. */
export function shownQuery(s: AppState): { side: Side; point: Point; result?: QueryResult } | undefined {
  return s.hoverMode && s.hover?.result ? s.hover : selectedPin(s);
}

export const setSettings = (settings: Partial<MatchSettings>) => set((s) => ({ settings: { ...s.settings, ...settings } }));

export function notify(kind: Notice['kind'], text: string, undo?: boolean): number {
  const id = nextNoticeId++;
  set((s) => ({ notices: [...s.notices.slice(-3), { id, kind, text, undo }] }));
  return id;
}

export function dismiss(id: number) {
  if (get().replaced?.notice === id) forgetReplaced();
  set((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
}

/** How long "Pins cleared · Undo" stays; the replaced image is released when it goes. */
export const UNDO_MS = 10_000;

let nextVersion = 1;

/** Releases the replaced image kept for "Undo" (its bitmap) and withdraws the offer. */
function forgetReplaced() {
  const { replaced } = get();
  if (!replaced) return;
  replaced.image.bitmap.close();
  set((s) => ({ replaced: null, notices: s.notices.filter((n) => n.id !== replaced.notice) }));
}

/** Results computed against an image that is no longer shown are dropped, so no arrow points at the old one. */
const unanswered = (pin: Pin): Pin => (pin.result ? { ...pin, result: undefined } : pin);

/**
 * Shows a new image in a pane. Pins placed on the old image meant points of that photo: they go, with a
 * notice that can undo it. Pins placed on the other image stay and are matched again against the new one.
 * A replaced image without pins is released at once.
 */
export function setImage(side: Side, image: Omit<PaneImage, 'version'>) {
  const old = get().images[side];
  const cleared = get().pins.filter((p) => p.side === side);
  // One replacement can be undone: the latest that cleared pins.
  if (old && cleared.length > 0) forgetReplaced();
  const s = get();
  const kept = s.pins.filter((p) => p.side !== side).map(unanswered);
  let { replaced } = s;
  if (old && cleared.length > 0) {
    const notice = notify('info', cleared.length === 1 ? 'Pin cleared' : `${cleared.length} pins cleared`, true);
    replaced = { side, image: old, pins: cleared, selectedPin: s.selectedPin, notice };
    setTimeout(() => dismiss(notice), UNDO_MS);
  } else {
    old?.bitmap.close();
  }
  set({
    images: { ...s.images, [side]: { ...image, version: nextVersion++ } },
    pins: kept,
    selectedPin: kept.some((p) => p.id === s.selectedPin) ? s.selectedPin : null,
    hover: null,
    replaced,
  });
}

/**
 * Puts the replaced image back with its pins (the image that replaced it is released). Returns the side of
 * the restored image, which the worker must encode again, or undefined when there is nothing to undo.
 */
export function undoReplace(): Side | undefined {
  const { replaced, images, pins } = get();
  if (!replaced) return undefined;
  images[replaced.side]?.bitmap.close();
  const image: PaneImage = {
    ...replaced.image,
    version: nextVersion++,
    encodeMs: undefined,
    encodeProgress: undefined,
    shipped: undefined,
  };
  set((s) => ({
    images: { ...s.images, [replaced.side]: image },
    pins: [...pins.filter((p) => p.side !== replaced.side).map(unanswered), ...replaced.pins.map(unanswered)],
    selectedPin: replaced.selectedPin,
    hover: null,
    replaced: null,
    notices: s.notices.filter((n) => n.id !== replaced.notice),
  }));
  return replaced.side;
}

export function clearImage(side: Side) {
  get().images[side]?.bitmap.close();
  set((s) => ({ images: { ...s.images, [side]: null } }));
}

/** Swaps the images (and the pins with them); the worker swaps its features the same way. */
export function swapImages() {
  const flip = (p: Pin): Pin => ({ ...p, side: otherSide(p.side) });
  set((s) => ({
    images: { source: s.images.target, target: s.images.source },
    pins: s.pins.map(flip),
    hover: null,
    denseResult: null,
    replaced: s.replaced && { ...s.replaced, side: otherSide(s.replaced.side), pins: s.replaced.pins.map(flip) },
  }));
}
