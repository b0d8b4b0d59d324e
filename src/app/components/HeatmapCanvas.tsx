import { useEffect, useRef } from 'react';
import { HeatLegend } from '../confidence/Confidence';
import { paintHeatmap } from '../draw';
import { otherSide, type Side } from '../protocol';
import { shownQuery, useStore } from '../store';

/** The heat map (softmax of the correlation row) of the shown query, over the pane it points into. */
export function HeatmapCanvas({ side }: { side: Side }) {
  const heatmap = useStore((s) => {
    const query = shownQuery(s);
    return query && otherSide(query.side) === side ? query.result?.heatmap : undefined;
  });
  const opacity = useStore((s) => s.heatOpacity);
  const ref = useRef<HTMLCanvasElement>(null);
  const pixels = useRef<ImageData | null>(null);

  useEffect(() => {
    if (!heatmap) return;
    const canvas = ref.current!;
    const ctx = canvas.getContext('2d')!;
    if (canvas.width !== heatmap.width || canvas.height !== heatmap.height || !pixels.current) {
      canvas.width = heatmap.width;
      canvas.height = heatmap.height;
      pixels.current = ctx.createImageData(heatmap.width, heatmap.height);
    }
    paintHeatmap(pixels.current, heatmap);
    const put = () => ctx.putImageData(pixels.current!, 0, 0);
    put();
    // See BitmapCanvas: repaint after a GPU context loss.
    canvas.addEventListener('contextrestored', put);
    return () => canvas.removeEventListener('contextrestored', put);
  }, [heatmap]);

  return (
    <>
      <canvas ref={ref} className="heatmap" data-testid={`heatmap-${side}`} hidden={!heatmap} style={{ opacity }} />
      {heatmap && <HeatLegend />}
    </>
  );
}
