/** The app's state (zustand) and the small actions that change it. The engine reacts to it. */
import { create } from 'zustand';
import { DEFAULT_SCALE } from '../model/constants';
import type { BackendReport, Point } from '../model/types';
import type { Correspondence, MatchSettings, QueryResult, Side } from './protocol';

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
  attribution?: string;
}

export interface Pin {
  id: number;
  /** The pane the pin was placed on: a target pin queries the reverse direction. */
  side: Side;
  point: Point;
  color: string;
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
  loadMs?: number;
  /** The weights came from the browser's cache, not the network (now, or for the progress so far). */
  fromCache?: boolean;
  backend?: BackendReport;
  /** Why the model is unusable, or which backend failed mid-way. */
  message?: string;
}

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export interface AppState {
  model: ModelStatus;
  images: Record<Side, PaneImage | null>;
  settings: MatchSettings;
  pins: Pin[];
  selectedPin: number | null;
  hoverMode: boolean;
  hover: Hover | null;
  dense: boolean;
  denseConsistentOnly: boolean;
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
}

export const useStore = create<AppState>()(() => ({
  model: { phase: 'loading', loaded: 0, total: 0 },
  images: { source: null, target: null },
  settings: { mode: 'fused', scale: DEFAULT_SCALE, flip: false },
  pins: [],
  selectedPin: null,
  hoverMode: false,
  hover: null,
  dense: false,
  denseConsistentOnly: false,
  denseResult: null,
  heatOpacity: 0.6,
  notices: [],
  slowQuery: false,
}));

const set = useStore.setState;
const get = useStore.getState;

/** Everything an answer depends on besides its query point. */
export function settingsKey({ images, settings }: AppState): string {
  return `${images.source?.version}:${images.target?.version}:${settings.mode}:${settings.scale}:${settings.flip}`;
}

export const queryKey = (state: AppState, side: Side, point: Point) => `${settingsKey(state)}|${side}|${point.x},${point.y}`;

const PIN_COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45'];
let nextPinId = 1;
let nextNoticeId = 1;

export function addPin(side: Side, point: Point) {
  const id = nextPinId++;
  const color = PIN_COLORS[(id - 1) % PIN_COLORS.length];
  set((s) => ({ pins: [...s.pins, { id, side, point, color }], selectedPin: id }));
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

export function notify(kind: Notice['kind'], text: string) {
  set((s) => ({ notices: [...s.notices.slice(-3), { id: nextNoticeId++, kind, text }] }));
}

export const dismiss = (id: number) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));

let nextVersion = 1;

/** Shows a new image in a pane; its pins keep their relative place on the new image. */
export function setImage(side: Side, image: Omit<PaneImage, 'version'>) {
  const old = get().images[side];
  old?.bitmap.close();
  const kx = old ? image.width / old.width : 1;
  const ky = old ? image.height / old.height : 1;
  set((s) => ({
    images: { ...s.images, [side]: { ...image, version: nextVersion++ } },
    pins: s.pins.map((p) => (p.side === side ? { ...p, point: { x: p.point.x * kx, y: p.point.y * ky } } : p)),
    hover: null,
  }));
}

export function clearImage(side: Side) {
  get().images[side]?.bitmap.close();
  set((s) => ({ images: { ...s.images, [side]: null } }));
}

/** Swaps the images (and the pins with them); the worker swaps its features the same way. */
export function swapImages() {
  set((s) => ({
    images: { source: s.images.target, target: s.images.source },
    pins: s.pins.map((p) => ({ ...p, side: p.side === 'source' ? 'target' : 'source' })),
    hover: null,
    denseResult: null,
  }));
}
