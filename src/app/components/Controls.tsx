import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { FUSED_SCALES, SCALES, type ScaleIndex } from '../../model/constants';
import type { MatchMode } from '../../model/types';
import { swap } from '../engine';
import { loadManifest, openExample } from '../examples';
import { download, toCsv, toExport } from '../exportPins';
import { MODES } from '../modes';
import { GalleryToggle } from './Gallery';
import { clearPins, setSettings, useStore } from '../store';

const { setState: set } = useStore;

/** Everything that changes what is matched and how it is shown. */
export function Controls() {
  return (
    <div className="controls">
      <FileActions />
      <GalleryToggle />
      <MatchingControls />
      <ViewControls />
    </div>
  );
}

function FileActions() {
  const hasPins = useStore((s) => s.pins.length > 0 || s.dense);
  const bothImages = useStore((s) => !!s.images.source && !!s.images.target);
  const [examples, setExamples] = useState(0);
  const [nextExample, setNextExample] = useState(0);
  useEffect(() => {
    loadManifest().then((m) => setExamples(m?.pairs.length ?? 0));
  }, []);

  const exportAs = (format: 'json' | 'csv') => {
    const data = toExport(useStore.getState());
    if (format === 'json') download('mmnet-matches.json', JSON.stringify(data, null, 2), 'application/json');
    else download('mmnet-matches.csv', toCsv(data), 'text/csv');
  };

  return (
    <div className="control-group">
      {examples > 0 && (
        <button
          type="button"
          onClick={() => {
            openExample(nextExample);
            setNextExample(nextExample + 1);
          }}
        >
          Try an example
        </button>
      )}
      <button
        type="button"
        disabled={!bothImages}
        onClick={swap}
        title="Exchange source and target (their features are kept)"
      >
        Swap ⇄
      </button>
      <button type="button" onClick={clearPins} disabled={!hasPins}>
        Clear pins
      </button>
      <button type="button" onClick={() => exportAs('json')} disabled={!hasPins}>
        Export JSON
      </button>
      <button type="button" onClick={() => exportAs('csv')} disabled={!hasPins}>
        Export CSV
      </button>
    </div>
  );
}

function MatchingControls() {
  const settings = useStore((s) => s.settings);
  const chooseMode = (mode: MatchMode) =>
    // The fused prior lives on the stride-16 grid: it has no scale 4.
    setSettings({ mode, scale: mode === 'fused' && !FUSED_SCALES.includes(settings.scale) ? 3 : settings.scale });

  return (
    <div className="control-group">
      <fieldset className="modes">
        <legend>Matching</legend>
        {MODES.map(({ mode, label, about }) => (
          <label key={mode} className="mode">
            <input type="radio" name="mode" value={mode} checked={settings.mode === mode} onChange={() => chooseMode(mode)} />
            <span>
              <strong>{label}</strong> <small>{about}</small>
            </span>
          </label>
        ))}
      </fieldset>
      <div className="stack">
        <label title="Coarse (4, stride 32) to fine (1, stride 4)">
          Scale{' '}
          <select
            value={settings.scale}
            disabled={settings.mode === 'raw'}
            onChange={(e) => setSettings({ scale: Number(e.target.value) as ScaleIndex })}
            data-testid="scale"
          >
            {SCALES.map(({ index, stride }) => (
              <option key={index} value={index} disabled={settings.mode === 'fused' && !FUSED_SCALES.includes(index)}>
                {index} (stride {stride})
              </option>
            ))}
          </select>
        </label>
        <label title="Also encodes the mirrored images (a second encode each) and averages both directions">
          <input
            type="checkbox"
            checked={settings.flip}
            disabled={settings.mode === 'raw'}
            onChange={(e) => setSettings({ flip: e.target.checked })}
          />{' '}
          Quality: flip averaging
        </label>
      </div>
    </div>
  );
}

function ViewControls() {
  const { hoverMode, dense, denseConsistentOnly, heatOpacity } = useStore(
    useShallow(({ hoverMode, dense, denseConsistentOnly, heatOpacity }) => ({ hoverMode, dense, denseConsistentOnly, heatOpacity })),
  );
  return (
    <div className="control-group stack">
      <label>
        <input type="checkbox" checked={hoverMode} onChange={(e) => set({ hoverMode: e.target.checked, hover: null })} /> Follow the
        pointer
      </label>
      <label>
        <input type="checkbox" checked={dense} onChange={(e) => set({ dense: e.target.checked })} /> Dense view
      </label>
      <label>
        <input
          type="checkbox"
          checked={denseConsistentOnly}
          disabled={!dense}
          onChange={(e) => set({ denseConsistentOnly: e.target.checked })}
        />{' '}
        Consistent matches only
      </label>
      <label>
        Heat map{' '}
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
    </div>
  );
}
