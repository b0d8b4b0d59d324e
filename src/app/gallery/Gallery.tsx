import { useEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { confidenceText } from '../confidence/bands';
import { galleryKey, sourcePins, splitName, timeLeft, useGallery, type GalleryItem } from './gallery';
import { addToGallery, cancelEncoding, openInPanes, removeFromGallery, setGallery } from './engine';
import { exportKeypoints } from './download';
import { filesFromDrop } from './files';
import type { Correspondence } from '../protocol';
import { pinLabel, useStore, type Pin } from '../store';
import { DASHED_RING, inkOn, isDoubtful, PIN_FONT, PIN_RADIUS, SELECTED_RADIUS } from '../draw';
import { FilePicker } from '../components/FileButton';
import { Icon } from '../components/Icons';
import './gallery.css';

/** Picked files, less hidden ones (a folder pick brings `.DS_Store` and the like). */
const addPicked = (files: File[]) => addToGallery(files.filter((f) => !f.name.startsWith('.')));

/** The toolbar's switch between one target and many. */
export function GalleryToggle() {
  const on = useGallery((s) => s.on);
  return (
    <button
      type="button"
      className="tool"
      aria-pressed={on}
      onClick={() => setGallery(!on)}
      title="One source, many targets: carry the pins across a folder"
    >
      <Icon name="gallery" />
      <span className="tool-label">Gallery</span>
    </button>
  );
}

/** Above the two panes while a gallery target is open in them: the way back to the grid. */
export function GalleryBar() {
  const item = useGallery((s) => (s.on && s.open !== null ? s.items.find((i) => i.id === s.open) : undefined));
  if (!item) return null;
  return (
    <div className="gallery-bar">
      <button type="button" onClick={() => useGallery.setState({ open: null })}>
        ← Back to the gallery
      </button>
      <span className="muted">{item.name}</span>
    </div>
  );
}

/** The target side in gallery mode: a grid of thumbnails with the source's pins carried onto each. */
export function GalleryGrid() {
  const count = useGallery((s) => s.items.length);
  const [dragOver, setDragOver] = useState(false);
  return (
    <section
      className={dragOver ? 'pane gallery drag-over' : 'pane gallery'}
      data-testid="gallery"
      onDragOver={(e) => {
        e.preventDefault();
        setDragOver(true);
      }}
      onDragLeave={() => setDragOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragOver(false);
        filesFromDrop(e.dataTransfer).then(addToGallery);
      }}
    >
      <GalleryHeader />
      <EncodeProgress />
      {count > 0 ? (
        <Thumbnails />
      ) : (
        <div className="drop-hint">Drop images or a folder here, or use Add images…: the source's pins are carried onto each.</div>
      )}
      <Credits />
    </section>
  );
}

function GalleryHeader() {
  const { count, encodes, lastMatch } = useGallery(
    useShallow(({ items, encodes, lastMatch }) => ({ count: items.length, encodes, lastMatch })),
  );
  const exportable = useExportable();
  return (
    <header className="pane-header gallery-header" data-testid="gallery-header" data-encodes={encodes}>
      <strong>Targets</strong>
      <span className="gallery-count">
        {count} {count === 1 ? 'image' : 'images'}
      </span>
      {/* Gives way first where the line is short: the count stays whole. */}
      <span className="pane-name">
        {lastMatch && (
          <span data-testid="gallery-match" data-ms={lastMatch.ms}>
            · matched {lastMatch.targets} × {lastMatch.points} in {Math.round(lastMatch.ms)} ms
          </span>
        )}
      </span>
      <FilePicker testId="gallery-files" multiple onFiles={addPicked}>
        Add images…
      </FilePicker>
      <FilePicker testId="gallery-folder" folder onFiles={addPicked}>
        Add folder…
      </FilePicker>
      <button
        type="button"
        className="link"
        disabled={count === 0}
        onClick={() => removeFromGallery(useGallery.getState().items.map((i) => i.id))}
      >
        Remove all
      </button>
      <button type="button" className="link" disabled={!exportable} onClick={() => exportKeypoints('json')}>
        Export COCO
      </button>
      <button type="button" className="link" disabled={!exportable} onClick={() => exportKeypoints('csv')}>
        Export CSV
      </button>
    </header>
  );
}

/** The credits the targets' photos must be shown with (the examples'), each once. */
function Credits() {
  const credits = useGallery(useShallow((s) => [...new Set(s.items.flatMap((item) => (item.attribution ? [item.attribution] : [])))]));
  return credits.map((credit) => (
    <p key={credit} className="attribution" title={credit}>
      {credit}
    </p>
  ));
}

function EncodeProgress() {
  const progress = useGallery((s) => s.progress);
  if (!progress) return null;
  const left = timeLeft(progress);
  return (
    <div className="gallery-progress" role="status" data-testid="gallery-progress">
      <span>
        Encoded {progress.done} of {progress.total}
        {left === undefined ? ' · estimating the time…' : ` · about ${Math.ceil(left / 1000)} s left`}
      </span>
      <progress max={progress.total} value={progress.done} />
      <button type="button" onClick={cancelEncoding}>
        Cancel
      </button>
    </div>
  );
}

function Thumbnails() {
  const items = useGallery((s) => s.items);
  return (
    <ul className="gallery-grid" aria-label="Targets">
      {items.map((item) => (
        <Thumbnail key={item.id} item={item} />
      ))}
    </ul>
  );
}

function Thumbnail({ item }: { item: GalleryItem }) {
  const encoded = useGallery((s) => !!s.encoded[item.digest]);
  const result = useGallery((s) => s.results[item.digest]);
  const duplicateOf = useGallery((s) => s.items.find((i) => i.digest === item.digest && i.id !== item.id && i.id < item.id)?.name);
  const pins = useStore(useShallow(sourcePins));
  const markers = result
    ? result.pins.flatMap((id, n) => {
        const pin = pins.find((p) => p.id === id);
        return pin ? [{ pin, match: result.matches[n] }] : [];
      })
    : [];
  const consistent = markers.filter((m) => m.match.consistent).length;
  const selected = useStore((s) => s.selectedPin);
  return (
    <li className="thumb" data-testid="thumb" data-name={item.name} data-encoded={encoded}>
      <button
        type="button"
        className="thumb-open"
        disabled={!encoded}
        onClick={() => openInPanes(item)}
        aria-label={`Open ${item.name} beside the source`}
      >
        <span
          className="thumb-frame"
          style={{ aspectRatio: `${item.width} / ${item.height}`, ['--ratio' as string]: item.width / item.height }}
        >
          <ThumbCanvas bitmap={item.thumb} />
          <svg aria-hidden>
            {markers.map(({ pin, match }) => (
              <Marker key={pin.id} pin={pin} match={match} item={item} selected={pin.id === selected} />
            ))}
          </svg>
        </span>
      </button>
      <span className="thumb-caption">
        <ThumbName name={item.name} />
        {markers.length > 0 && (
          <span className={consistent < markers.length ? 'warning' : 'muted'} title="Pins whose match, matched back, lands on the pin">
            {consistent}/{markers.length} ✓
          </span>
        )}
        <button type="button" className="link" aria-label={`Remove ${item.name}`} onClick={() => removeFromGallery([item.id])}>
          ✕
        </button>
      </span>
      {duplicateOf && <span className="thumb-note">same file as {duplicateOf}: encoded once</span>}
      {!encoded && <span className="busy">Encoding…</span>}
    </li>
  );
}

/**
 * A file name that may not fit: its start gives way first and its end stays, since names in one folder
 * often share a long start ("car-S_Cars_0012.jpg", "car-S_Cars_0013.jpg") and differ at the end.
 */
function ThumbName({ name }: { name: string }) {
  const [head, tail] = splitName(name);
  return (
    <span className="thumb-name" title={name}>
      <span className="thumb-name-head">{head}</span>
      <span className="thumb-name-tail">{tail}</span>
    </span>
  );
}

/**
 * A carried pin, drawn as on the panes: a disc in the pin's colour with its number (a fixed size on
 * screen, whatever the thumbnail's scale); a probably wrong match hollow with a dashed ring, a failed
 * check flagged "!".
 */
function Marker({ pin, match, item, selected }: { pin: Pin; match: Correspondence; item: GalleryItem; selected: boolean }) {
  const { x, y } = match.match;
  // Percentages of the frame: the markers keep their size in screen pixels.
  const cx = `${(100 * x) / item.width}%`;
  const cy = `${(100 * y) / item.height}%`;
  const hollow = isDoubtful(match);
  const r = selected ? SELECTED_RADIUS : PIN_RADIUS;
  return (
    <g
      className={`marker band-${match.band}${match.consistent ? '' : ' inconsistent'}${selected ? ' selected' : ''}`}
      data-testid="marker"
      data-pin={pin.id}
      data-x={x}
      data-y={y}
      data-probability={match.probability}
      data-confidence={match.confidence}
      data-band={match.band}
      data-consistent={match.consistent}
      style={{ ['--pin' as string]: pin.color, ['--ink' as string]: hollow ? pin.color : inkOn(pin.color) }}
    >
      <title>
        {pinLabel(pin)}: {confidenceText(match)}, back {match.backError.toFixed(1)} px
        {match.consistent ? ', consistent' : ', lands far from the pin when matched back'}
      </title>
      <circle cx={cx} cy={cy} r={r} strokeDasharray={hollow ? DASHED_RING.join(' ') : undefined} />
      <text x={cx} y={cy} dy="0.5" textAnchor="middle" dominantBaseline="central" style={{ font: PIN_FONT }}>
        {pin.id}
      </text>
      {!match.consistent && (
        <text className="marker-flag" x={cx} y={cy} dx={r} dy={-r} dominantBaseline="central" style={{ font: PIN_FONT }}>
          !
        </text>
      )}
    </g>
  );
}

function ThumbCanvas({ bitmap }: { bitmap: ImageBitmap }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current!;
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
  }, [bitmap]);
  return <canvas ref={ref} />;
}

/** Export waits until every target is encoded and answered for the current pins and settings. */
function useExportable(): boolean {
  const key = useStore((s) => (s.images.source && sourcePins(s).length > 0 ? galleryKey(s) : null));
  return useGallery((g) => key !== null && g.items.length > 0 && !g.progress && g.items.every((i) => g.results[i.digest]?.key === key));
}
