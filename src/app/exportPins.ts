/** Export of the pins (and the dense matches) in original-image coordinates, as JSON and CSV. */
import { csvField } from './csv';
import { download } from './download';
import { exportKeypoints } from './gallery/download';
import { gridShown, useGallery } from './gallery/gallery';
import type { Band } from './confidence/bands';
import type { Correspondence, Side } from './protocol';
import { pinLabel, useStore, type AppState } from './store';

export interface ExportedMatch {
  /** Pin id, or null for a dense-grid match. */
  pin: number | null;
  /** The pin's name ("pin 3" until renamed), or null for a dense-grid match. */
  name: string | null;
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

const exported = (pin: number | null, name: string | null, side: Side, c: Correspondence | undefined, query = c!.query): ExportedMatch => ({
  pin,
  name,
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
    pins: state.pins.map((p) => exported(p.id, pinLabel(p), p.side, p.result, p.point)),
    dense: state.dense ? (state.denseResult?.matches ?? []).map((m) => exported(null, null, 'source', m)) : [],
  };
}

const CSV_HEADER = 'kind,pin,name,query_side,query_x,query_y,match_x,match_y,confidence,band,probability,back_error,consistent';

export function toCsv(data: Export): string {
  const row = (kind: string, m: ExportedMatch) =>
    [
      kind,
      m.pin ?? '',
      m.name ?? '',
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
      .map(csvField)
      .join(',');
  return [CSV_HEADER, ...data.pins.map((m) => row('pin', m)), ...data.dense.map((m) => row('dense', m))].join('\n') + '\n';
}

/** The menu's export: the pins of the two panes, or the gallery's keypoints while its grid is shown. */
export function exportPinsOrGallery(format: 'json' | 'csv') {
  if (gridShown(useGallery.getState())) return exportKeypoints(format);
  const data = toExport(useStore.getState());
  if (format === 'json') download('mmnet-matches.json', JSON.stringify(data, null, 2), 'application/json');
  else download('mmnet-matches.csv', toCsv(data), 'text/csv');
}
