/** Draws the dense matches as a warp, a colour field or lines (a spaced few), only the confident ones. Allocation-free per draw. */
import type { AppState, PaneImage } from '../store';
import type { Frame } from '../draw';
import { isConfident } from './confident';
import { CELL_COLOURS, landingCell, sourceCell, type Rect } from './field';
import { cachedLineCells } from './lines';

/** How dark the target is under the warp: the places no confident match reaches read as empty. */
const WARP_BACKDROP = 0.8;
const FIELD_ALPHA = 0.6;
const LINE_ALPHA = 0.9;
const LINE_WIDTH = 2;
/** Radius of the dots at a line's ends. */
const LINE_END = 3.5;

const from: Rect = { x: 0, y: 0, width: 0, height: 0 };
const to: Rect = { x: 0, y: 0, width: 0, height: 0 };

/** Returns the number of matches drawn. */
export function drawDense(ctx: CanvasRenderingContext2D, state: AppState, source: Frame, target: Frame): number {
  const { images, denseView } = state;
  const sourceImage = images.source!;
  const targetImage = images.target!;
  const matches = state.denseResult!.matches;
  let drawn = 0;
  ctx.save();
  if (denseView === 'warp') {
    clipTo(ctx, target, targetImage);
    ctx.globalAlpha = WARP_BACKDROP;
    ctx.fillStyle = '#000';
    ctx.fillRect(target.left, target.top, targetImage.width * target.scale, targetImage.height * target.scale);
    ctx.globalAlpha = 1;
    // The shown bitmap may be a downscaled copy of the original.
    const k = sourceImage.bitmap.width / sourceImage.width;
    for (const m of matches) {
      if (!isConfident(m)) continue;
      sourceCell(m.query, sourceImage, from);
      landingCell(m.match, targetImage, to);
      ctx.drawImage(
        sourceImage.bitmap,
        from.x * k,
        from.y * k,
        from.width * k,
        from.height * k,
        target.left + to.x * target.scale,
        target.top + to.y * target.scale,
        to.width * target.scale,
        to.height * target.scale,
      );
      drawn++;
    }
  } else if (denseView === 'colours') {
    ctx.globalAlpha = FIELD_ALPHA;
    for (let k = 0; k < matches.length; k++) {
      const m = matches[k];
      if (!isConfident(m)) continue;
      ctx.fillStyle = CELL_COLOURS[k];
      fillRect(ctx, source, sourceCell(m.query, sourceImage, from));
      fillRect(ctx, target, landingCell(m.match, targetImage, to));
      drawn++;
    }
  } else {
    ctx.globalAlpha = LINE_ALPHA;
    ctx.lineWidth = LINE_WIDTH;
    for (const k of cachedLineCells(matches)) {
      const m = matches[k];
      const x0 = source.left + m.query.x * source.scale;
      const y0 = source.top + m.query.y * source.scale;
      const x1 = target.left + m.match.x * target.scale;
      const y1 = target.top + m.match.y * target.scale;
      ctx.strokeStyle = CELL_COLOURS[k];
      ctx.fillStyle = CELL_COLOURS[k];
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.stroke();
      // A dot on each end: which point went where reads even where lines cross.
      ctx.beginPath();
      ctx.arc(x0, y0, LINE_END, 0, 2 * Math.PI);
      ctx.moveTo(x1 + LINE_END, y1);
      ctx.arc(x1, y1, LINE_END, 0, 2 * Math.PI);
      ctx.fill();
      drawn++;
    }
  }
  ctx.restore();
  return drawn;
}

/** Only the image itself: a splat near its edge must not spill onto the page. */
function clipTo(ctx: CanvasRenderingContext2D, frame: Frame, image: PaneImage) {
  ctx.beginPath();
  ctx.rect(frame.left, frame.top, image.width * frame.scale, image.height * frame.scale);
  ctx.clip();
}

const fillRect = (ctx: CanvasRenderingContext2D, f: Frame, r: Rect) =>
  ctx.fillRect(f.left + r.x * f.scale, f.top + r.y * f.scale, r.width * f.scale, r.height * f.scale);
