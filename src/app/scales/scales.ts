/**
 * The multi-scale view: for the selected pin, the heat maps of the four scales side by side, coarse to
 * fine. Its state (a zustand store beside the app's) and the rule for what it must show.
 */
import { create } from 'zustand';
import type { ScaleRow } from '../protocol';
import { selectedPin, type AppState } from '../store';

export interface ScalesState {
  /** What `rows` answer (see `scalesKey`); null before the first answer. */
  key: string | null;
  rows: ScaleRow[];
  error?: string;
}

export const useScales = create<ScalesState>()(() => ({ key: null, rows: [] }));

/**
 * What the view must answer now, or null when it has nothing to ask: it is hidden, no pin is selected,
 * or an image is missing. The mode and scale settings do not matter (every scale is shown); flip does.
 */
export function scalesKey(state: AppState): string | null {
  const pin = selectedPin(state);
  const { source, target } = state.images;
  if (!state.scalesShown || !pin || !source || !target) return null;
  return `${source.version}:${target.version}:${state.settings.flip}|${pin.side}|${pin.point.x},${pin.point.y}`;
}
