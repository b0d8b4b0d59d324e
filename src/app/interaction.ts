/** Pointer and keyboard interaction with the panes, as store actions on original-image coordinates. */
import type { Point } from '../model/index';
import { distance } from './geometry';
import type { Side } from './protocol';
import { addPin, deletePin, movePin, selectPin, useStore, type Pin } from './store';

const { getState: get, setState: set } = useStore;

/** The pin of this pane nearest to `point` within `radius` (image pixels), if any. */
function pinAt(side: Side, point: Point, radius: number): Pin | undefined {
  let best: Pin | undefined;
  for (const pin of get().pins) {
    if (pin.side === side && distance(pin.point, point) <= radius && (!best || distance(pin.point, point) < distance(best.point, point))) {
      best = pin;
    }
  }
  return best;
}

/** Pointer down on a pane: grab the pin under it, or place a new one. Returns the pin to drag. */
export function grab(side: Side, point: Point, radius: number): number {
  const hit = pinAt(side, point, radius);
  if (hit) {
    selectPin(hit.id);
    return hit.id;
  }
  addPin(side, point);
  return get().selectedPin!;
}

export function hoverAt(side: Side, point: Point) {
  // Keep the last answer on screen until the new one arrives, unless it belongs to the other pane.
  set((s) => ({ hover: { side, point, result: s.hover?.side === side ? s.hover.result : undefined } }));
}

const ARROWS: Record<string, Point> = {
  ArrowLeft: { x: -1, y: 0 },
  ArrowRight: { x: 1, y: 0 },
  ArrowUp: { x: 0, y: -1 },
  ArrowDown: { x: 0, y: 1 },
};

/**
 * Keyboard on a focused pane: arrows move the selected pin (by one screen pixel, ten with Shift), Delete
 * removes it, Escape deselects, Enter places a pin in the middle. Returns whether the key was used.
 */
export function handleKey(side: Side, key: string, shift: boolean, step: number, size: { width: number; height: number }): boolean {
  const state = get();
  const pin = state.pins.find((p) => p.id === state.selectedPin);
  const arrow = ARROWS[key];
  if (arrow && pin) {
    const d = (shift ? 10 : 1) * step;
    const x = Math.min(Math.max(pin.point.x + arrow.x * d, 0), size.width);
    const y = Math.min(Math.max(pin.point.y + arrow.y * d, 0), size.height);
    movePin(pin.id, { x, y });
    return true;
  }
  if ((key === 'Delete' || key === 'Backspace') && pin) {
    deletePin(pin.id);
    return true;
  }
  if (key === 'Escape') {
    selectPin(null);
    return true;
  }
  if (key === 'Enter') {
    addPin(side, { x: size.width / 2, y: size.height / 2 });
    return true;
  }
  return false;
}
