import { useEffect, useId, useState, type ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { FUSED_SCALES, SCALES, type ScaleIndex } from '../../model/constants';
import type { MatchMode } from '../../model/types';
import { openImage, swap } from '../engine';
import { openExample } from '../examples/examples';
import { loadManifest } from '../examples/site';
import { exportPinsOrGallery } from '../exportPins';
import { MODES, SCALE_WORDS } from '../modes';
import { embedded, exampleParam, fullAppUrl } from '../params';
import type { Side } from '../protocol';
import { clearPins, setSettings, useStore, type AppState, type DenseView } from '../store';
import { GalleryToggle } from '../gallery/Gallery';
import { FilePicker } from './FileButton';
import { Icon, type IconName } from './Icons';
import { Popover } from './Popover';

const { setState: set } = useStore;

/**
 * One toolbar, in the order a person works: examples and their own images, pins, how the matches are
 * shown, the gallery. How the matching works (method and scale) sits in the "Method" menu, in words.
 */
export function Controls() {
  return (
    <div className="toolbar" aria-label="Controls">
      {embedded ? <EmbedTitle /> : <Brand />}
      <FileActions />
      <ViewControls />
      <GalleryToggle />
      <div className="tool-group end">
        <MethodMenu />
        <MoreMenu />
      </div>
    </div>
  );
}

function Brand() {
  return (
    <header className="app-header">
      <Icon name="logo" />
      <h1>
        MMNet <span className="tagline">semantic correspondence</span>
      </h1>
      <Popover icon="info" label="About" title="About this demo" className="about" iconOnly>
        <h2>MMNet: semantic correspondence in the browser</h2>
        <p>
          Open two photos of the same kind of thing (two cats, two bikes), then click a point on the left: the arrow shows the same part on
          the right. Everything runs on this page; no image leaves your computer.
        </p>
        <p>
          <strong>Views.</strong> Arrows: one per pin. Warp: the left photo redrawn in the right one&apos;s shape. Colours: each region of
          the left photo painted where it lands. Lines: one per confident match. Scales: the selected pin&apos;s heat map at each of the
          four scales.
        </p>
        <p className="muted">
          A pin on the right asks the reverse direction. Keyboard: Tab to a pane; Enter places a pin, arrows move it (Shift: ten times as
          far), Delete removes it, Escape deselects. Paste an image with Ctrl/Cmd+V.
        </p>
      </Popover>
    </header>
  );
}

/** Embedded in another page: what this is, and the way to the full app. */
function EmbedTitle() {
  return (
    <header className="embed-title">
      <Icon name="logo" />
      <strong>MMNet</strong>
      <a href={fullAppUrl} target="_blank" rel="noopener">
        Open the full app ↗
      </a>
    </header>
  );
}

/** A toolbar button: an icon with a label (the label hides on narrow screens unless they are touch screens). */
function Tool({
  icon,
  label,
  title,
  ...props
}: {
  icon: IconName;
  label: string;
  title: string;
  disabled?: boolean;
  onClick: () => void;
  'aria-label'?: string;
}) {
  return (
    <button type="button" className="tool" title={title} {...props}>
      <Icon name={icon} />
      <span className="tool-label">{label}</span>
    </button>
  );
}

/** Where picked files go: two fill both panes; one goes to the first empty pane, else the target. */
function sidesFor(count: number, images: AppState['images']): Side[] {
  if (count >= 2) return ['source', 'target'];
  return [!images.source ? 'source' : 'target'];
}

function FileActions() {
  const hasPins = useStore((s) => s.pins.length > 0);
  const bothImages = useStore((s) => !!s.images.source && !!s.images.target);
  const [examples, setExamples] = useState(0);
  const [nextExample, setNextExample] = useState(exampleParam === null ? 0 : exampleParam + 1);
  useEffect(() => {
    loadManifest().then((m) => setExamples(m?.pairs.length ?? 0));
  }, []);
  const openFiles = (files: File[]) =>
    sidesFor(files.length, useStore.getState().images).forEach((side, k) => openImage(side, files[k], files[k].name));

  return (
    <div className="tool-group">
      {examples > 0 && (
        <Tool
          icon="example"
          label="Example"
          aria-label="Try an example"
          title={`Try an example: a pair of Caltech-101 photos (${examples} pairs, one after another); in the gallery, a photo with pins and a set of the same kind`}
          onClick={() => {
            openExample(nextExample);
            setNextExample(nextExample + 1);
          }}
        />
      )}
      <FilePicker
        className="tool"
        testId="file-both"
        multiple
        onFiles={openFiles}
        title="Open your own images: pick two to fill both panes"
      >
        <Icon name="open" />
        <span className="tool-label">Open images</span>
      </FilePicker>
      <Tool icon="swap" label="Swap" disabled={!bothImages} onClick={swap} title="Swap the two images (their pins go with them)" />
      <Tool icon="clear" label="Clear pins" disabled={!hasPins} onClick={clearPins} title="Remove every pin" />
    </div>
  );
}

/** Radio buttons drawn as one segmented control (arrow keys move between them, as in any radio group). */
function Segmented({ legend, children }: { legend: string; children: ReactNode }) {
  return (
    <fieldset className="segmented">
      <legend className="sr-only">{legend}</legend>
      {children}
    </fieldset>
  );
}

function Segment({
  name,
  checked,
  title,
  onChange,
  children,
}: {
  name: string;
  checked: boolean;
  title: string;
  onChange: () => void;
  children: ReactNode;
}) {
  return (
    <label className="segment" title={title}>
      <input type="radio" name={name} checked={checked} onChange={onChange} />
      <span>{children}</span>
    </label>
  );
}

const VIEWS: { view: DenseView | 'arrows'; label: string; about: string }[] = [
  { view: 'arrows', label: 'Arrows', about: 'One arrow per pin, from the point you placed to its match' },
  { view: 'warp', label: 'Warp', about: 'The source redrawn in the target’s shape, from its confident matches (dark: no confident match)' },
  { view: 'colours', label: 'Colours', about: 'Each region of the source gets a colour, painted again where it lands in the target' },
  { view: 'lines', label: 'Lines', about: 'A line from each confident region of the source to its match' },
];

/** A checkbox drawn as a toggle button. */
function Toggle({
  icon,
  label,
  name,
  title,
  checked,
  disabled,
  onChange,
}: {
  icon?: IconName;
  label: string;
  name?: string;
  title: string;
  checked: boolean;
  disabled?: boolean;
  onChange: (on: boolean) => void;
}) {
  return (
    <label className={icon ? 'toggle tool' : 'toggle'} title={title}>
      <input type="checkbox" checked={checked} disabled={disabled} aria-label={name} onChange={(e) => onChange(e.target.checked)} />
      {icon && <Icon name={icon} />}
      <span className={icon ? 'tool-label' : undefined}>{label}</span>
    </label>
  );
}

function ViewControls() {
  const { hoverMode, dense, denseView, scalesShown } = useStore(
    useShallow(({ hoverMode, dense, denseView, scalesShown }) => ({ hoverMode, dense, denseView, scalesShown })),
  );
  const shown = dense ? denseView : 'arrows';
  return (
    <div className="tool-group">
      <Segmented legend="View">
        {VIEWS.map(({ view, label, about }) => (
          <Segment
            key={view}
            name="view"
            checked={shown === view}
            title={about}
            onChange={() => set(view === 'arrows' ? { dense: false } : { dense: true, denseView: view })}
          >
            {label}
          </Segment>
        ))}
      </Segmented>
      <Toggle
        icon="scales"
        label="Scales"
        name="Scales view"
        title="The selected pin's heat map at each of the four scales, coarse to fine: MMNet's pyramid at work"
        checked={scalesShown}
        onChange={(on) => set({ scalesShown: on })}
      />
      <Toggle
        icon="pointer"
        label="Follow"
        name="Follow the pointer"
        title="Follow the pointer: match whatever is under it, without placing pins"
        checked={hoverMode}
        onChange={(on) => set({ hoverMode: on, hover: null })}
      />
    </div>
  );
}

/** One choice of a menu's radio group: a name, and a line saying what it is. */
function Choice({
  name,
  label,
  about,
  checked,
  disabled,
  onChange,
}: {
  name: string;
  label: string;
  about: string;
  checked: boolean;
  disabled?: boolean;
  onChange: () => void;
}) {
  const id = useId();
  return (
    <label className="choice">
      <input type="radio" name={name} aria-label={label} aria-describedby={id} checked={checked} disabled={disabled} onChange={onChange} />
      <span>
        <strong>{label}</strong> <small id={id}>{about}</small>
      </span>
    </label>
  );
}

function MethodMenu() {
  const settings = useStore((s) => s.settings);
  const raw = settings.mode === 'raw';
  const chooseMode = (mode: MatchMode) =>
    // The fused prior lives on the stride-16 grid: it has no scale 4.
    setSettings({ mode, scale: mode === 'fused' && !FUSED_SCALES.includes(settings.scale) ? 3 : settings.scale });
  return (
    <Popover icon="settings" label="Method" title="How points are matched" className="menu method">
      <fieldset className="choices">
        <legend>Matching</legend>
        {MODES.map(({ mode, label, about }) => (
          <Choice key={mode} name="mode" label={label} about={about} checked={settings.mode === mode} onChange={() => chooseMode(mode)} />
        ))}
      </fieldset>
      <fieldset className="choices" data-testid="scale">
        <legend>Scale: how large a region each match compares</legend>
        {SCALES.map(({ index, stride }) => (
          <Choice
            key={index}
            name="scale"
            label={`Scale ${index}`}
            about={
              raw
                ? 'Raw features compare 16 px cells only'
                : `${SCALE_WORDS[index]}, ${stride} px cells${settings.mode === 'fused' && !FUSED_SCALES.includes(index) ? ' (not with Fused)' : ''}`
            }
            checked={!raw && settings.scale === index}
            disabled={raw || (settings.mode === 'fused' && !FUSED_SCALES.includes(index))}
            onChange={() => setSettings({ scale: index as ScaleIndex })}
          />
        ))}
      </fieldset>
      <Toggle
        label="Quality: flip averaging"
        title="Also matches the mirrored images (a second encode each) and averages both: slower, a little more accurate"
        checked={settings.flip}
        disabled={raw}
        onChange={(on) => setSettings({ flip: on })}
      />
    </Popover>
  );
}

function MoreMenu() {
  const heatOpacity = useStore((s) => s.heatOpacity);
  const exportable = useStore((s) => s.pins.length > 0 || s.dense);
  return (
    <Popover icon="more" label="More" title="More settings and export" className="menu">
      <label className="range" title="Opacity of the heat map of the shown match">
        Heat map
        <input
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={heatOpacity}
          onChange={(e) => set({ heatOpacity: Number(e.target.value) })}
          aria-label="Heat map opacity"
        />
      </label>
      <hr />
      <button type="button" className="menu-item" onClick={() => exportPinsOrGallery('json')} disabled={!exportable}>
        <Icon name="download" /> Export JSON
      </button>
      <button type="button" className="menu-item" onClick={() => exportPinsOrGallery('csv')} disabled={!exportable}>
        <Icon name="download" /> Export CSV
      </button>
    </Popover>
  );
}
