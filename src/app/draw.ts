/** Canvas drawing of the overlay (pins, arrows, dense views) and of heat maps. Allocation-free per draw. */
import type { HeatMap, Point } from '../model/index';
import { probabilityLevel, VIRIDIS } from './colormap';
import { drawDense } from './dense/drawDense';
import { otherSide, type Correspondence, type Side } from './protocol';
import type { AppState } from './store';

/** Where an image is drawn, in overlay pixels. */
export interface Frame {
  left: number;
  top: number;
  /** Overlay pixels per image pixel. */
  scale: number;
}

export type Frames = Record<Side, Frame | null>;

const SOLID: number[] = [];
const DASHED = [6, 4];

const sx = (f: Frame, p: Point) => f.left + p.x * f.scale;
const sy = (f: Frame, p: Point) => f.top + p.y * f.scale;

/** A rectangle in overlay pixels the overlay must leave alone (a pane's header). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pin discs: large enough for a two-digit number, larger when selected (the gallery's markers too). */
export const PIN_RADIUS = 9;
export const SELECTED_RADIUS = 11;
const ARROW_HEAD = 10;

/**
 * Draws everything except over `keepClear`; returns the number of dense matches drawn (exposed for tests).
 */
export function drawOverlay(ctx: CanvasRenderingContext2D, state: AppState, frames: Frames, keepClear: readonly Box[]): number {
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, ctx.canvas.width, ctx.canvas.height);
  for (const box of keepClear) ctx.rect(box.x, box.y, box.width, box.height);
  ctx.clip('evenodd');
  const drawn =
    state.dense && state.denseResult && frames.source && frames.target ? drawDense(ctx, state, frames.source, frames.target) : 0;
  // A pane may be missing (the gallery's grid stands in for the target): its pins and arrows are not drawn.
  for (const pin of state.pins) {
    const from = frames[pin.side];
    const to = frames[otherSide(pin.side)];
    if (!from) continue;
    const selected = pin.id === state.selectedPin;
    if (pin.result && to) {
      drawArrow(ctx, from, pin.point, to, pin.result, pin.color, selected);
      drawPin(ctx, to, pin.result.match, pin.color, selected, pin.id, isDoubtful(pin.result));
    }
    drawPin(ctx, from, pin.point, pin.color, selected, pin.id, false);
  }
  const { hover } = state;
  const hoverFrom = hover && frames[hover.side];
  const hoverTo = hover && frames[otherSide(hover.side)];
  if (state.hoverMode && hover?.result && hoverFrom && hoverTo) {
    drawArrow(ctx, hoverFrom, hover.point, hoverTo, hover.result, HOVER_COLOR, false);
    drawPin(ctx, hoverTo, hover.result.match, HOVER_COLOR, false, null, isDoubtful(hover.result));
    drawPin(ctx, hoverFrom, hover.point, HOVER_COLOR, false, null, false);
  }
  ctx.restore();
  return drawn;
}

const HOVER_COLOR = '#ffffff';

/** Below the "unsure" band: drawn dashed, with a hollow head and a dashed ring. */
export const isDoubtful = (m: Correspondence) => m.band === 'wrong';

/** A line from the query to the edge of its match's disc, with a head there; dashed, the head hollow, when the match is probably wrong. */
function drawArrow(ctx: CanvasRenderingContext2D, a: Frame, p: Point, b: Frame, result: Correspondence, color: string, selected: boolean) {
  const x0 = sx(a, p);
  const y0 = sy(a, p);
  const angle = Math.atan2(sy(b, result.match) - y0, sx(b, result.match) - x0);
  const r = selected ? SELECTED_RADIUS : PIN_RADIUS;
  const x1 = sx(b, result.match) - r * Math.cos(angle);
  const y1 = sy(b, result.match) - r * Math.sin(angle);
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = selected ? 3 : 2;
  const doubtful = isDoubtful(result);
  ctx.setLineDash(doubtful ? DASHED : SOLID);
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
  ctx.setLineDash(SOLID);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - ARROW_HEAD * Math.cos(angle - 0.45), y1 - ARROW_HEAD * Math.sin(angle - 0.45));
  ctx.lineTo(x1 - ARROW_HEAD * Math.cos(angle + 0.45), y1 - ARROW_HEAD * Math.sin(angle + 0.45));
  ctx.closePath();
  if (doubtful) ctx.stroke();
  else ctx.fill();
}

/**
 * A pin's disc with its number, the same on both ends (the query and its match), so each match is found
 * by colour and number alike; a probably wrong match gets a dashed ring.
 */
function drawPin(
  ctx: CanvasRenderingContext2D,
  f: Frame,
  p: Point,
  color: string,
  selected: boolean,
  id: number | null,
  doubtful: boolean,
) {
  const x = sx(f, p);
  const y = sy(f, p);
  const r = selected ? SELECTED_RADIUS : PIN_RADIUS;
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fillStyle = color;
  ctx.fill();
  ctx.lineWidth = 2;
  ctx.strokeStyle = selected ? '#fff' : '#000';
  ctx.setLineDash(doubtful ? DASHED_RING : SOLID);
  ctx.stroke();
  ctx.setLineDash(SOLID);
  if (id === null) return;
  ctx.fillStyle = inkOn(color);
  ctx.font = PIN_FONT;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(pinNumber(id), x, y + 0.5);
}

export const DASHED_RING = [3, 3];
export const PIN_FONT = 'bold 11px system-ui, sans-serif';

const numbers: string[] = [];
/** The pin's number as text, made once per id. */
const pinNumber = (id: number) => (numbers[id] ??= String(id));

const inks = new Map<string, string>();
/** Black or white, whichever reads better on `color` (#rrggbb). Computed once per colour. */
export function inkOn(color: string): string {
  let ink = inks.get(color);
  if (!ink) {
    const [r, g, b] = [1, 3, 5].map((at) => parseInt(color.slice(at, at + 2), 16) / 255);
    ink = 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 ? '#000' : '#fff';
    inks.set(color, ink);
  }
  return ink;
}

/**
 * Paints a heat map into `image`, reusing it: viridis colours on the fixed scale of `probabilityLevel`
 * (the legend's), transparent where the probability is low so the photo shows through.
 */
export function paintHeatmap(image: ImageData, heatmap: HeatMap) {
  const { data } = heatmap;
  const pixels = image.data;
  for (let k = 0; k < data.length; k++) {
    const t = probabilityLevel(data[k]);
    const level = 3 * Math.round(t * 255);
    pixels[4 * k] = VIRIDIS[level];
    pixels[4 * k + 1] = VIRIDIS[level + 1];
    pixels[4 * k + 2] = VIRIDIS[level + 2];
    pixels[4 * k + 3] = Math.round(255 * Math.sqrt(t));
  }
}
