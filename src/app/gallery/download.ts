/** Saves the gallery's keypoints (COCO JSON or CSV) for the current pins and answers. */
import { download } from '../download';
import { pinLabel, useStore, type AppState } from '../store';
import { toCocoKeypoints, toKeypointsCsv, type GalleryExportInput } from './export';
import { sourcePins, useGallery, type GalleryState } from './gallery';

export function exportKeypoints(format: 'json' | 'csv') {
  const data = exportInput(useStore.getState(), useGallery.getState());
  if (format === 'json') download('mmnet-keypoints.json', JSON.stringify(toCocoKeypoints(data), null, 2), 'application/json');
  else download('mmnet-keypoints.csv', toKeypointsCsv(data), 'text/csv');
}

function exportInput(app: AppState, gallery: GalleryState): GalleryExportInput {
  const source = app.images.source!;
  return {
    source: { name: source.name, width: source.width, height: source.height, digest: source.digest },
    pins: sourcePins(app).map((pin) => ({ id: pin.id, name: pinLabel(pin), point: pin.point })),
    targets: gallery.items.map((item) => {
      const result = gallery.results[item.digest];
      return {
        image: { name: item.name, width: item.width, height: item.height, digest: item.digest },
        matches: new Map(result?.pins.map((id, n) => [id, result.matches[n]])),
      };
    }),
    settings: app.settings,
    headVersion: gallery.headVersion ?? 'unknown',
  };
}
