/** Export of the pins (and the dense matches) in original-image coordinates, as JSON and CSV. */
import type { Band } from './confidence/bands';
import type { Correspondence, Side } from './protocol';
import type { AppState } from './store';

export interface ExportedMatch {
  /** Pin id, or null for a dense-grid match. */
  pin: number | null;
  /** The pane of the query: a `target` query was matched in the reverse direction. */
  side: Side;
  query: { x: number; y: number };
  match: { x: number; y: number } | null;
  /** Calibrated chance that the match is right, and the band it falls in. */
  confidence: number | null;
  band: Band | null;
  /** The heat map's peak probability. */
  probability: number | null;
  backError: number | null;
  consistent: boolean | null;
}

export interface Export {
  source: { name: string; width: number; height: number } | null;
  target: { name: string; width: number; height: number } | null;
  settings: AppState['settings'];
  pins: ExportedMatch[];
  dense: ExportedMatch[];
}

const imageInfo = (image: AppState['images']['source']) => image && { name: image.name, width: image.width, height: image.height };

const exported = (pin: number | null, side: Side, c: Correspondence | undefined, query = c!.query): ExportedMatch => ({
  pin,
  side,
  query: { x: query.x, y: query.y },
  match: c ? { x: c.match.x, y: c.match.y } : null,
  confidence: c?.confidence ?? null,
  band: c?.band ?? null,
  probability: c?.probability ?? null,
  backError: c?.backError ?? null,
  consistent: c?.consistent ?? null,
});

export function toExport(state: AppState): Export {
  return {
    source: imageInfo(state.images.source),
    target: imageInfo(state.images.target),
    settings: state.settings,
    pins: state.pins.map((p) => exported(p.id, p.side, p.result, p.point)),
    dense: state.dense ? (state.denseResult?.matches ?? []).map((m) => exported(null, 'source', m)) : [],
  };
}

const CSV_HEADER = 'kind,pin,query_side,query_x,query_y,match_x,match_y,confidence,band,probability,back_error,consistent';

export function toCsv(data: Export): string {
  const row = (kind: string, m: ExportedMatch) =>
    [
      kind,
      m.pin ?? '',
      m.side,
      m.query.x,
      m.query.y,
      m.match?.x ?? '',
      m.match?.y ?? '',
      m.confidence ?? '',
      m.band ?? '',
      m.probability ?? '',
      m.backError ?? '',
      m.consistent ?? '',
    ]
      .map((v) => (typeof v === 'number' ? +v.toFixed(4) : v))
      .join(',');
  return [CSV_HEADER, ...data.pins.map((m) => row('pin', m)), ...data.dense.map((m) => row('dense', m))].join('\n') + '\n';
}

export function download(name: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
