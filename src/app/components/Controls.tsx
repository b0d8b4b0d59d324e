import { useEffect, useState, type ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { FUSED_SCALES, SCALES, type ScaleIndex } from '../../model/constants';
import type { MatchMode } from '../../model/types';
import { swap } from '../engine';
import { loadManifest, openExample } from '../examples/examples';
import { download, toCsv, toExport } from '../exportPins';
import { MODES } from '../modes';
import { embedded, exampleParam } from '../params';
import { clearPins, setSettings, useStore } from '../store';
import { GalleryToggle } from '../gallery/Gallery';
import { Icon, type IconName } from './Icons';
import { Popover } from './Popover';

const { setState: set } = useStore;

/**
 * One compact toolbar: file actions, the matching mode and scale as segmented controls, view toggles, and a
 * menu for the settings one rarely changes. Explanations live in tooltips and the About panel.
 */
export function Controls() {
  return (
    <div className="toolbar" aria-label="Controls">
      {!embedded && <Brand />}
      <FileActions />
      <ModeControl />
      <ScaleControl />
      <ViewToggles />
      <GalleryToggle />
      <MoreMenu />
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
          Drop two images of the same kind of object, then click a point on the left to find its counterpart on the right. Everything runs
          on this page; no image leaves your computer.
        </p>
        <dl>
          {MODES.map(({ mode, label, about }) => (
            <div key={mode}>
              <dt>{label}</dt>
              <dd>{about}</dd>
            </div>
          ))}
        </dl>
        <p className="muted">
          Scale: 4 is coarse (stride 32), 1 is fine (stride 4). A pin on the target asks the reverse direction. Keyboard: Tab to a pane;
          Enter places a pin, arrows move it (Shift: ten times as far), Delete removes it, Escape deselects. Paste an image with Ctrl/Cmd+V.
        </p>
      </Popover>
    </header>
  );
}

/** A toolbar button: an icon with a label (the label hides on narrow screens; the tooltip stays). */
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

function FileActions() {
  const hasPins = useStore((s) => s.pins.length > 0);
  const bothImages = useStore((s) => !!s.images.source && !!s.images.target);
  const [examples, setExamples] = useState(0);
  const [nextExample, setNextExample] = useState(exampleParam === null ? 0 : exampleParam + 1);
  useEffect(() => {
    loadManifest().then((m) => setExamples(m?.pairs.length ?? 0));
  }, []);

  return (
    <div className="tool-group">
      {examples > 0 && (
        <Tool
          icon="example"
          label="Example"
          aria-label="Try an example"
          title={`Try an example: a pair of Caltech-101 photos (${examples} pairs, one after another)`}
          onClick={() => {
            openExample(nextExample);
            setNextExample(nextExample + 1);
          }}
        />
      )}
      <Tool
        icon="swap"
        label="Swap"
        disabled={!bothImages}
        onClick={swap}
        title="Swap source and target (their features and pins go with them)"
      />
      <Tool icon="clear" label="Clear" aria-label="Clear pins" disabled={!hasPins} onClick={clearPins} title="Clear pins" />
    </div>
  );
}

/** Radio buttons drawn as one segmented control (arrow keys move between them, as in any radio group). */
function Segmented({ legend, testId, children }: { legend: string; testId?: string; children: ReactNode }) {
  return (
    <fieldset className="segmented" data-testid={testId}>
      <legend className="sr-only">{legend}</legend>
      {children}
    </fieldset>
  );
}

function Segment({
  name,
  checked,
  disabled,
  title,
  onChange,
  children,
}: {
  name: string;
  checked: boolean;
  disabled?: boolean;
  title: string;
  onChange: () => void;
  children: ReactNode;
}) {
  return (
    <label className="segment" title={title}>
      <input type="radio" name={name} checked={checked} disabled={disabled} onChange={onChange} />
      <span>{children}</span>
    </label>
  );
}

function ModeControl() {
  const settings = useStore((s) => s.settings);
  const chooseMode = (mode: MatchMode) =>
    // The fused prior lives on the stride-16 grid: it has no scale 4.
    setSettings({ mode, scale: mode === 'fused' && !FUSED_SCALES.includes(settings.scale) ? 3 : settings.scale });
  return (
    <Segmented legend="Matching mode">
      {MODES.map(({ mode, label, about }) => (
        <Segment key={mode} name="mode" checked={settings.mode === mode} title={about} onChange={() => chooseMode(mode)}>
          {label}
        </Segment>
      ))}
    </Segmented>
  );
}

function ScaleControl() {
  const settings = useStore((s) => s.settings);
  const raw = settings.mode === 'raw';
  return (
    <Segmented legend="Scale" testId="scale">
      <span className="segmented-caption" aria-hidden>
        Scale
      </span>
      {SCALES.map(({ index, stride }) => (
        <Segment
          key={index}
          name="scale"
          checked={!raw && settings.scale === index}
          disabled={raw || (settings.mode === 'fused' && !FUSED_SCALES.includes(index))}
          title={
            raw
              ? 'Raw features match at stride 16 only'
              : `Scale ${index}: stride ${stride}${index === 1 ? ' (finest)' : index === 4 ? ' (coarsest; not in Fused)' : ''}`
          }
          onChange={() => setSettings({ scale: index as ScaleIndex })}
        >
          {index}
        </Segment>
      ))}
    </Segmented>
  );
}

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

function ViewToggles() {
  const { hoverMode, dense } = useStore(useShallow(({ hoverMode, dense }) => ({ hoverMode, dense })));
  return (
    <div className="tool-group">
      <Toggle
        icon="pointer"
        label="Follow"
        name="Follow the pointer"
        title="Follow the pointer: match whatever is under it, without placing pins"
        checked={hoverMode}
        onChange={(on) => set({ hoverMode: on, hover: null })}
      />
      <Toggle
        icon="dense"
        label="Dense"
        name="Dense view"
        title="Dense view: a line from every cell of a 20 × 14 grid of the source to its match, coloured by confidence"
        checked={dense}
        onChange={(on) => set({ dense: on })}
      />
    </div>
  );
}

function MoreMenu() {
  const { settings, dense, denseConsistentOnly, heatOpacity, exportable } = useStore(
    useShallow(({ settings, dense, denseConsistentOnly, heatOpacity, pins }) => ({
      settings,
      dense,
      denseConsistentOnly,
      heatOpacity,
      exportable: pins.length > 0 || dense,
    })),
  );
  const exportAs = (format: 'json' | 'csv') => {
    const data = toExport(useStore.getState());
    if (format === 'json') download('mmnet-matches.json', JSON.stringify(data, null, 2), 'application/json');
    else download('mmnet-matches.csv', toCsv(data), 'text/csv');
  };
  return (
    <div className="tool-group end">
      <Popover icon="settings" label="More" title="More settings and export" className="menu">
        <Toggle
          label="Quality: flip averaging"
          title="Also encodes the mirrored images (a second encode each) and averages both directions"
          checked={settings.flip}
          disabled={settings.mode === 'raw'}
          onChange={(on) => setSettings({ flip: on })}
        />
        <Toggle
          label="Consistent matches only"
          title="Dense view: keep only the matches that land back near their query"
          checked={denseConsistentOnly}
          disabled={!dense}
          onChange={(on) => set({ denseConsistentOnly: on })}
        />
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
        <button type="button" className="menu-item" onClick={() => exportAs('json')} disabled={!exportable}>
          <Icon name="download" /> Export JSON
        </button>
        <button type="button" className="menu-item" onClick={() => exportAs('csv')} disabled={!exportable}>
          <Icon name="download" /> Export CSV
        </button>
      </Popover>
    </div>
  );
}
