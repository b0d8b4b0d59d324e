import { useEffect, useRef, type RefObject } from 'react';
import { drawOverlay, type Box, type Frames } from '../draw';
import { useStore } from '../store';

/**
 * One canvas over both panes for pins, arrows and the dense views. It redraws at most once per animation
 * frame, after a store change or a resize, outside React. It never paints over the panes' headers.
 */
export function Overlay({ stage }: { stage: RefObject<HTMLDivElement | null> }) {
  const ref = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const canvas = ref.current!;
    const container = stage.current!;
    const ctx = canvas.getContext('2d')!;
    const frames: Frames = { source: null, target: null };
    const headers: Box[] = [];
    let pending = 0;

    const draw = () => {
      pending = 0;
      const box = container.getBoundingClientRect();
      const dpr = devicePixelRatio;
      const width = Math.round(box.width * dpr);
      const height = Math.round(box.height * dpr);
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      const state = useStore.getState();
      for (const side of ['source', 'target'] as const) {
        const element = container.querySelector(`[data-frame="${side}"]`);
        const image = state.images[side];
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
      canvas.dataset.denseShown = String(drawOverlay(ctx, state, frames, headers));
    };
    const request = () => {
      pending ||= requestAnimationFrame(draw);
    };

    const unsubscribe = useStore.subscribe(request);
    canvas.addEventListener('contextrestored', request);
    const resizes = new ResizeObserver(request);
    resizes.observe(container);
    container.querySelectorAll('.pane-body').forEach((body) => resizes.observe(body));
    request();
    return () => {
      unsubscribe();
      canvas.removeEventListener('contextrestored', request);
      resizes.disconnect();
      cancelAnimationFrame(pending);
    };
  }, [stage]);

  return <canvas ref={ref} className="overlay" data-testid="overlay" aria-hidden />;
}
