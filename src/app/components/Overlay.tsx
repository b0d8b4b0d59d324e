import { useEffect, useRef, type RefObject } from 'react';
import type { Box, Frames } from '../draw';
import { handOver } from '../first-paint/firstPaint';
import { useStore } from '../store';
import { paintOverlay } from './paintOverlay';

/**
 * One canvas over both panes for pins, arrows and the dense views. It redraws at most once per animation
 * frame, after a store change or a resize, outside React. It never paints over the panes' headers. Once
 * it shows the photos and every pin's answer, the page's first view (src/app/first-paint/) gives way to it.
 */
export function Overlay({ stage }: { stage: RefObject<HTMLDivElement | null> }) {
  const ref = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const canvas = ref.current!;
    const container = stage.current!;
    const frames: Frames = { source: null, target: null };
    const headers: Box[] = [];
    const frameOf = (side: string) => container.querySelector(`[data-frame="${side}"]`);
    let pending = 0;

    const draw = () => {
      pending = 0;
      const state = useStore.getState();
      canvas.dataset.denseShown = String(paintOverlay(canvas, container, state, state.images, frameOf, frames, headers));
      // Which dense view the canvas holds: a test reads its count once the canvas shows the view it chose.
      canvas.dataset.denseView = state.dense ? state.denseView : '';
      // The gallery's grid stands in for the target pane: then the source alone is shown.
      const shown = !!frames.source && (!!frames.target || !state.images.target);
      if (shown && state.pins.every((pin) => pin.result)) handOver();
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
