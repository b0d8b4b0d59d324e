/** Canvas drawing of the overlay (pins, arrows, dense lines) and of heat maps. Allocation-free per draw. */
import type { HeatMap, Point } from '../model/index';
import { probabilityLevel, VIRIDIS, viridisCss } from './colormap';
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

/** Draws everything; returns the number of dense lines drawn (exposed for tests and the status bar). */
export function drawOverlay(ctx: CanvasRenderingContext2D, state: AppState, frames: Frames): number {
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  let lines = 0;
  if (state.dense && state.denseResult && frames.source && frames.target) {
    ctx.lineWidth = 1;
    ctx.globalAlpha = 0.75;
    // Coloured by confidence; the probably wrong ones dashed, in a second pass (one dash switch per draw).
    for (const dashed of [false, true]) {
      ctx.setLineDash(dashed ? DASHED : SOLID);
      for (const m of state.denseResult.matches) {
        if ((state.denseConsistentOnly && !m.consistent) || isDoubtful(m) !== dashed) continue;
        ctx.strokeStyle = viridisCss(m.confidence);
        drawLine(ctx, frames.source, m.query, frames.target, m.match);
        lines++;
      }
    }
    ctx.setLineDash(SOLID);
    ctx.globalAlpha = 1;
  }
  // A pane may be missing (the gallery's grid stands in for the target): its pins and arrows are not drawn.
  for (const pin of state.pins) {
    const from = frames[pin.side];
    const to = frames[otherSide(pin.side)];
    if (!from) continue;
    if (pin.result && to) drawArrow(ctx, from, pin.point, to, pin.result, pin.color);
    drawPin(ctx, from, pin.point, pin.color, pin.id === state.selectedPin);
  }
  const { hover } = state;
  const hoverFrom = hover && frames[hover.side];
  const hoverTo = hover && frames[otherSide(hover.side)];
  if (state.hoverMode && hover?.result && hoverFrom && hoverTo) {
    drawArrow(ctx, hoverFrom, hover.point, hoverTo, hover.result, '#ffffff');
    drawPin(ctx, hoverFrom, hover.point, '#ffffff', false);
  }
  return lines;
}

function drawLine(ctx: CanvasRenderingContext2D, a: Frame, p: Point, b: Frame, q: Point) {
  ctx.beginPath();
  ctx.moveTo(sx(a, p), sy(a, p));
  ctx.lineTo(sx(b, q), sy(b, q));
  ctx.stroke();
}

/** Below the "unsure" band: drawn dashed and hollow. */
const isDoubtful = (m: Correspondence) => m.band === 'wrong';

/** An arrow from the query to its match; dashed, with a hollow head, when the match is probably wrong. */
function drawArrow(ctx: CanvasRenderingContext2D, a: Frame, p: Point, b: Frame, result: Correspondence, color: string) {
  const x0 = sx(a, p);
  const y0 = sy(a, p);
  const x1 = sx(b, result.match);
  const y1 = sy(b, result.match);
  const angle = Math.atan2(y1 - y0, x1 - x0);
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 2;
  const doubtful = isDoubtful(result);
  ctx.setLineDash(doubtful ? DASHED : SOLID);
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
  ctx.setLineDash(SOLID);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - 12 * Math.cos(angle - 0.4), y1 - 12 * Math.sin(angle - 0.4));
  ctx.lineTo(x1 - 12 * Math.cos(angle + 0.4), y1 - 12 * Math.sin(angle + 0.4));
  ctx.closePath();
  if (doubtful) ctx.stroke();
  else ctx.fill();
  ctx.beginPath();
  ctx.arc(x1, y1, 5, 0, 2 * Math.PI);
  ctx.strokeStyle = '#000';
  ctx.lineWidth = 1;
  ctx.stroke();
}

function drawPin(ctx: CanvasRenderingContext2D, f: Frame, p: Point, color: string, selected: boolean) {
  ctx.setLineDash(SOLID);
  ctx.beginPath();
  ctx.arc(sx(f, p), sy(f, p), selected ? 8 : 6, 0, 2 * Math.PI);
  ctx.fillStyle = color;
  ctx.fill();
  ctx.lineWidth = selected ? 3 : 1.5;
  ctx.strokeStyle = selected ? '#fff' : '#000';
  ctx.stroke();
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
