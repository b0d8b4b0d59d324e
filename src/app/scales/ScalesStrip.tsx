import { useEffect, useRef } from 'react';
import { scaleSpec } from '../../model/constants';
import { paintHeatmap } from '../draw';
import { SCALE_WORDS } from '../modes';
import { otherSide, type ScaleRow } from '../protocol';
import { pinLabel, selectedPin, useStore, type PaneImage } from '../store';
import { useScales } from './scales';
import './engine';

/** Pixels across each small map (its height follows the image). */
const MAP_WIDTH = 240;

/** Under the panes: the selected pin's heat map at every scale, coarse to fine, on the image it points into. */
export function ScalesStrip() {
  const shown = useStore((s) => s.scalesShown);
  const pin = useStore(selectedPin);
  const image = useStore((s) => (pin ? s.images[otherSide(pin.side)] : null));
  const { rows, error } = useScales();
  if (!shown) return null;
  return (
    <section className="scales" data-testid="scales" aria-label="Heat maps at every scale">
      {!pin || !image ? (
        <p className="muted">Select a pin to see how its match is found at every scale, coarse to fine.</p>
      ) : error ? (
        <p className="error">The scales could not be computed: {error}</p>
      ) : (
        <>
          <p className="scales-caption">
            <strong>{pinLabel(pin)}</strong> at every scale: each finer map looks closer.
          </p>
          {rows.map((row) => (
            <ScaleMap key={row.scale} row={row} image={image} />
          ))}
        </>
      )}
    </section>
  );
}

function ScaleMap({ row, image }: { row: ScaleRow; image: PaneImage }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const { stride } = scaleSpec(row.scale);
  useEffect(() => {
    const canvas = ref.current!;
    canvas.width = MAP_WIDTH;
    canvas.height = Math.round((MAP_WIDTH * image.height) / image.width);
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(image.bitmap, 0, 0, canvas.width, canvas.height);
    const { heatmap } = row;
    const cells = new OffscreenCanvas(heatmap.width, heatmap.height);
    const pixels = new ImageData(heatmap.width, heatmap.height);
    paintHeatmap(pixels, heatmap);
    cells.getContext('2d')!.putImageData(pixels, 0, 0);
    // Cells stay square blocks: the coarse maps should look coarse.
    ctx.imageSmoothingEnabled = false;
    ctx.globalAlpha = 0.75;
    ctx.drawImage(cells, 0, 0, canvas.width, canvas.height);
    ctx.globalAlpha = 1;
    const k = canvas.width / image.width;
    ctx.beginPath();
    ctx.arc(row.match.x * k, row.match.y * k, 5, 0, 2 * Math.PI);
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#fff';
    ctx.stroke();
  }, [row, image]);
  return (
    <figure className="scale-map" data-testid="scale-map" data-scale={row.scale}>
      <canvas ref={ref} />
      <figcaption title={`Scale ${row.scale}: ${SCALE_WORDS[row.scale]}, ${stride} px cells`}>
        Scale {row.scale} · {stride} px<span className="scale-words"> · {SCALE_WORDS[row.scale]}</span>
      </figcaption>
    </figure>
  );
}
