import { useEffect, useRef, useState, type DragEvent, type KeyboardEvent, type PointerEvent } from 'react';
import { openImage } from '../engine';
import { clampPoint } from '../geometry';
import { grab, handleKey, hoverAt } from '../interaction';
import { SIDE_TITLES, type Side } from '../protocol';
import { movePin, useStore, type PaneImage } from '../store';
import { FileButton } from './FileButton';
import { HeatmapCanvas } from './HeatmapCanvas';
import { Icon } from './Icons';
import { encodingStatus } from './loading';

/** One image pane: accepts a dropped or picked file, shows the image and its heat map, takes pins. */
export function Pane({ side }: { side: Side }) {
  const image = useStore((s) => s.images[side]);
  const model = useStore((s) => s.model);
  const [dragOver, setDragOver] = useState(false);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragOver(false);
    const file = e.dataTransfer.files[0];
    if (file) openImage(side, file, file.name);
  };

  return (
    <section
      className={dragOver ? 'pane drag-over' : 'pane'}
      data-testid={`pane-${side}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDragOver(true);
      }}
      onDragLeave={() => setDragOver(false)}
      onDrop={onDrop}
    >
      <header className="pane-header">
        <strong className={`pane-title ${side}`}>{SIDE_TITLES[side]}</strong>
        <span className="pane-name" title={image?.name}>
          {image && `${image.name} · ${image.width}×${image.height}`}
        </span>
        <FileButton side={side}>{image ? 'Replace…' : 'Open…'}</FileButton>
      </header>
      <div className="pane-body">
        {image ? (
          <ImageFrame side={side} image={image} />
        ) : (
          <div className="drop-hint">
            <Icon name="open" />
            <p>
              Drop {side === 'source' ? 'a source' : 'a target'} image here
              <br />
              <small>or paste one (Ctrl/Cmd+V), or use Open…</small>
            </p>
          </div>
        )}
        {image && image.encodeMs === undefined && <div className="busy">{encodingStatus(image, model)}</div>}
        {side === 'source' && <Matching />}
      </div>
      {image?.attribution && <p className="attribution">{image.attribution}</p>}
    </section>
  );
}

/**
 * Shown while a query takes long (the first flip-averaged match encodes the mirrored images): in the
 * source's corner, where the pane headers' buttons and the encoding badge are not.
 */
function Matching() {
  const slow = useStore((s) => s.slowQuery);
  return slow ? (
    <div className="matching" role="status">
      Matching…
    </div>
  ) : null;
}

function ImageFrame({ side, image }: { side: Side; image: PaneImage }) {
  const ref = useRef<HTMLDivElement>(null);
  const dragging = useRef<number | null>(null);

  /** Original-image pixels per screen pixel. */
  const pixelScale = () => image.width / ref.current!.getBoundingClientRect().width;
  const toImage = (e: PointerEvent) => {
    const rect = ref.current!.getBoundingClientRect();
    const k = image.width / rect.width;
    return clampPoint({ x: (e.clientX - rect.left) * k, y: (e.clientY - rect.top) * k }, image.width, image.height);
  };

  const onPointerDown = (e: PointerEvent) => {
    if (e.button !== 0) return;
    ref.current!.focus();
    ref.current!.setPointerCapture(e.pointerId);
    dragging.current = grab(side, toImage(e), 12 * pixelScale());
  };
  const onPointerMove = (e: PointerEvent) => {
    if (dragging.current !== null) movePin(dragging.current, toImage(e));
    else if (useStore.getState().hoverMode) hoverAt(side, toImage(e));
  };
  const onPointerUp = () => {
    dragging.current = null;
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (handleKey(side, e.key, e.shiftKey, pixelScale(), image)) e.preventDefault();
  };

  return (
    <div
      ref={ref}
      className="frame"
      data-frame={side}
      tabIndex={0}
      role="application"
      aria-label={`${SIDE_TITLES[side]} image: click to place a pin, arrow keys move the selected pin, Delete removes it`}
      style={{
        aspectRatio: `${image.width} / ${image.height}`,
        ['--ratio' as string]: image.width / image.height,
        ['--width' as string]: image.width,
      }}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
      onKeyDown={onKeyDown}
    >
      <BitmapCanvas bitmap={image.bitmap} />
      <HeatmapCanvas side={side} />
    </div>
  );
}

function BitmapCanvas({ bitmap }: { bitmap: ImageBitmap }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current!;
    const draw = () => canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    draw();
    // A GPU-backed canvas loses its pixels when the GPU process restarts (e.g. a WebGPU crash): repaint.
    canvas.addEventListener('contextrestored', draw);
    return () => canvas.removeEventListener('contextrestored', draw);
  }, [bitmap]);
  return <canvas ref={ref} className="photo" data-testid="photo" />;
}
