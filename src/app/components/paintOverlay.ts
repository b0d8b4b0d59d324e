/** The overlay canvas sized to its container and painted over the photos' frames in it (no React). */
import { drawOverlay, type Box, type Frames } from '../draw';
import type { Side } from '../protocol';
import type { AppState } from '../store';

/**
 * Sizes `canvas` to `container` (device pixels), finds each side's frame (`frameOf`, showing an image
 * `sizes[side]` wide) and the pane headers in it, and draws `state` there, leaving the headers clear. `frames` and `headers` are reused between
 * draws. Returns the number of dense matches drawn.
 */
export function paintOverlay(
  canvas: HTMLCanvasElement,
  container: HTMLElement,
  state: AppState,
  sizes: Record<Side, { width: number } | null>,
  frameOf: (side: Side) => Element | null,
  frames: Frames,
  headers: Box[],
): number {
  const box = container.getBoundingClientRect();
  const dpr = devicePixelRatio;
  const width = Math.round(box.width * dpr);
  const height = Math.round(box.height * dpr);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  for (const side of ['source', 'target'] as const) {
    const element = frameOf(side);
    const image = sizes[side];
    if (!element || !image) {
      frames[side] = null;
      continue;
    }
    const rect = element.getBoundingClientRect();
    const frame = (frames[side] ??= { left: 0, top: 0, scale: 1 });
    frame.left = rect.left - box.left;
    frame.top = rect.top - box.top;
    frame.scale = rect.width / image.width;
  }
  const found = container.querySelectorAll('.pane-header');
  headers.length = found.length;
  found.forEach((header, k) => {
    const rect = header.getBoundingClientRect();
    const clear = (headers[k] ??= { x: 0, y: 0, width: 0, height: 0 });
    clear.x = rect.left - box.left;
    clear.y = rect.top - box.top;
    clear.width = rect.width;
    clear.height = rect.height;
  });
  return drawOverlay(ctx, state, frames, headers);
}
