import { shownQuery, useStore } from '../store';
import { xy } from './Inspector';
import { MODES } from '../modes';
import type { LoadTimings, WasmReport } from '../../model/types';
import { downloadStatus } from './loading';

const ms = (v?: number) => (v === undefined ? '…' : `${Math.round(v)} ms`);

/** "SIMD × 4 threads", or "SIMD (1 thread: page not cross-origin isolated)". */
const wasmMode = ({ simd, threads, singleThreadReason }: WasmReport) =>
  [simd && 'SIMD', threads > 1 ? `× ${threads} threads` : `(1 thread: ${singleThreadReason})`].filter(Boolean).join(' ');

/** "backend 412 ms · download 1903 ms (sha256 180 ms) · decode 640 ms · cache 20 ms" (backend and download overlap). */
const loadBreakdown = (t: LoadTimings) =>
  `backend ${ms(t.backendMs)} · download ${ms(t.fetchMs)} (sha256 ${ms(t.hashMs)}) · decode ${ms(t.decodeMs)} · cache ${ms(t.cacheWriteMs)}`;

/**
 * Behind a "Details" disclosure: the shown match's coordinates, the backend (and why faster ones were not
 * used), load, encode and match times, and what produced the view.
 */
export function StatusBar() {
  const model = useStore((s) => s.model);
  const source = useStore((s) => s.images.source);
  const target = useStore((s) => s.images.target);
  const lastQuery = useStore((s) => s.lastQuery);
  const memory = useStore((s) => s.memory);
  const shown = useStore((s) => shownQuery(s)?.result);
  const backend = model.backend;
  const rejected = backend?.rejected.map((r) => `${r.name}: ${r.reason}`).join('; ');

  return (
    <footer
      className="status"
      data-testid="status"
      data-phase={model.phase}
      data-backend={backend?.name ?? ''}
      data-threads={backend?.wasm?.threads ?? ''}
    >
      {model.phase === 'loading' && (
        <span data-testid="download" title="The weights are kept in this browser's cache: a later visit starts in seconds">
          {downloadStatus(model)}
        </span>
      )}
      <details className="details">
        <summary>Details</summary>
        <div className="details-body">
          {shown && (
            <span data-testid="coords" title="Original-image pixels; back: how far the match, matched back, lands from the query">
              ({xy(shown.query)}) → ({xy(shown.match)}) · p = {shown.probability.toFixed(3)} · back {shown.backError.toFixed(1)} px
            </span>
          )}
          {backend ? (
            <span title={rejected && `Not used: ${rejected}`}>
              Backend <strong>{backend.name.toUpperCase()}</strong>
              {backend.wasm && <span data-testid="wasm-mode"> {wasmMode(backend.wasm)}</span>}
              {rejected && <small> (not used: {backend.rejected.map((r) => r.name).join(', ')})</small>}
            </span>
          ) : (
            <span>Starting…</span>
          )}
          {model.loadMs !== undefined && (
            <span
              data-testid="load"
              data-ms={model.loadMs}
              data-from-cache={model.fromCache}
              data-timings={model.timings && JSON.stringify(model.timings)}
              title={model.timings && loadBreakdown(model.timings)}
            >
              model {ms(model.loadMs)}
              {model.fromCache && ' (from cache)'}
            </span>
          )}
          {model.message && model.phase === 'ready' && (
            <span className="warning" data-testid="backend-note" title={model.message}>
              {model.message}
            </span>
          )}
          {source && (
            <span data-testid="encode-source" data-ms={source.encodeMs ?? ''}>
              encode source {ms(source.encodeMs)}
            </span>
          )}
          {target && (
            <span data-testid="encode-target" data-ms={target.encodeMs ?? ''}>
              encode target {ms(target.encodeMs)}
            </span>
          )}
          {lastQuery && (
            <span data-testid="shown-mode" data-mode={lastQuery.settings.mode} data-ms={lastQuery.ms}>
              match {lastQuery.ms.toFixed(1)} ms · {MODES.find((m) => m.mode === lastQuery.settings.mode)!.label}, scale{' '}
              {lastQuery.settings.mode === 'raw' ? '3 (stride 16)' : lastQuery.settings.scale}
              {lastQuery.settings.flip && ', flip averaged'}
            </span>
          )}
          {memory && (
            <span data-testid="memory" data-tensors={memory.tensors} data-bytes={memory.bytes}>
              tensors {memory.tensors} · {(memory.bytes / 2 ** 20).toFixed(0)} MiB
            </span>
          )}
        </div>
      </details>
    </footer>
  );
}
