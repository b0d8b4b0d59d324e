/**
 * The example's first view, before the app has started: the pair's photos, its pins and their build-time
 * matches (`FirstMatches`), over the page. It is laid out with the app's own classes, so each photo lands
 * where the app's pane will show it, and drawn by the app's overlay code. The app runs beside it and
 * removes it (`handOver`) once its own overlay shows the same. Only the panes are drawn: the app's
 * toolbar and lines below show through as they render. Phones and embedding lay the page out otherwise:
 * there the view is hidden (styles.css) and the app's own first screen is what shows.
 */
import type { Box, Frames } from '../draw';
import { ICON_PATHS } from '../components/iconPaths';
import { paintOverlay } from '../components/paintOverlay';
import { photoCredit, type ExamplePair, type Manifest } from '../examples/files';
import { firstPins } from '../examples/firstMatches';
import { firstMatchesOf, loadManifest, photoBlob } from '../examples/site';
import { embedded, exampleParam } from '../params';
import { SIDE_TITLES, type Side } from '../protocol';
import { useStore } from '../store';

const VIEW_ID = 'first-paint';
let handedOver = false;

/**
 * Resolves once the view is on screen (a frame has been painted since it was drawn), or at once where there
 * is none to draw (no example, embedded, no first matches).
 */
export async function showFirstPaint(): Promise<void> {
  if (embedded || exampleParam === null) return;
  const manifest = await loadManifest();
  if (!manifest?.pairs.length) return;
  const pair = manifest.pairs[exampleParam % manifest.pairs.length];
  const [first, source, target] = await Promise.all([firstMatchesOf(pair), decoded(pair.source), decoded(pair.target)]);
  const state = useStore.getState();
  const pins = firstPins(pair, first, state.settings);
  if (!pins || handedOver) return;
  const view = layout(manifest, pair, { source, target });
  document.body.prepend(view.root);
  const sizes = { source: { width: source.naturalWidth }, target: { width: target.naturalWidth } };
  const shown = { ...state, pins, selectedPin: null };
  const drawn = frames();
  const headers: Box[] = [];
  const draw = () => paintOverlay(view.overlay, view.stage, shown, sizes, (side) => view.frames[side], drawn, headers);
  draw();
  view.root.dataset.drawn = 'true';
  // A window resized before the app takes over moves the photos: the arrows follow.
  new ResizeObserver(draw).observe(view.stage);
  await new Promise((painted) => requestAnimationFrame(() => setTimeout(painted)));
}

/**
 * The app shows the example itself: the view goes one frame later, when the app's photos (drawn by its
 * effects) are surely painted too.
 */
export function handOver() {
  if (handedOver) return;
  handedOver = true;
  requestAnimationFrame(() => requestAnimationFrame(() => document.getElementById(VIEW_ID)?.remove()));
}

const frames = (): Frames => ({ source: null, target: null });

/** An example photo, decoded, from the same fetch the app will use. */
async function decoded(photo: string): Promise<HTMLImageElement> {
  const img = new Image();
  img.alt = '';
  img.className = 'photo';
  const url = URL.createObjectURL(await photoBlob(photo));
  img.src = url;
  try {
    await img.decode();
  } finally {
    URL.revokeObjectURL(url);
  }
  return img;
}

/** Icons.tsx's "open" icon. */
function openIcon(): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', ICON_PATHS.open);
  svg.append(path);
  for (const [name, value] of Object.entries({ class: 'icon', viewBox: '0 0 24 24', width: '16', height: '16' }))
    svg.setAttribute(name, value);
  return svg;
}

const SVG = 'http://www.w3.org/2000/svg';

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  node.append(...children);
  return node;
}

/**
 * The app's frame (laid out as `.app`: toolbar, stage, examples, inspector, status) with its panes filled and the rest
 * as empty rows of the app's heights (hidden), so the stage and each photo's frame get the app's sizes.
 */
function layout(manifest: Manifest, pair: ExamplePair, photos: Record<Side, HTMLImageElement>) {
  const frames = {} as Record<Side, HTMLElement>;
  const pane = (side: Side) => {
    const img = photos[side];
    const frame = element('div', 'frame', img);
    // As Pane.tsx sizes its frame (styles.css: contained, never past 2×).
    frame.style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`;
    frame.style.setProperty('--ratio', String(img.naturalWidth / img.naturalHeight));
    frame.style.setProperty('--width', String(img.naturalWidth));
    frames[side] = frame;
    const header = element(
      'header',
      'pane-header',
      element('strong', `pane-title ${side}`, SIDE_TITLES[side]),
      element('span', 'pane-name', `${pair[side]} · ${img.naturalWidth}×${img.naturalHeight}`),
      element('button', 'link file-button', openIcon(), 'Replace…'),
    );
    return element('section', 'pane', header, element('div', 'pane-body', frame), element('p', 'attribution', photoCredit(manifest)));
  };
  const overlay = element('canvas', 'overlay');
  const stage = element('div', 'stage', pane('source'), pane('target'), overlay);
  // The example strip's height is its thumbnails'.
  const strip = element('nav', 'examples', element('span', 'example', element('img', '')));
  const root = element(
    'div',
    'first-paint',
    element('div', 'toolbar'),
    stage,
    strip,
    element('div', 'inspector'),
    element('div', 'status'),
  );
  root.id = VIEW_ID;
  root.dataset.testid = VIEW_ID;
  root.setAttribute('aria-hidden', 'true');
  return { root, stage, overlay, frames };
}
