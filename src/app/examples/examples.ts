/**
 * The examples: same-category Caltech-101 pairs copied into `examples/` at build time, each with its
 * features (computed by `npm run models`) and the pins the first screen shows matched. The page opens on the
 * first one, which answers before the model has loaded.
 */
import { openImage } from '../engine';
import { exampleParam } from '../params';
import { addPin, clearPins, selectPin } from '../store';
import { featuresPath, MANIFEST_PATH, photoPath, type Manifest } from './files';

let manifest: Promise<Manifest | null> | undefined;

const siteUrl = (path: string) => new URL(path, document.baseURI);

/** The manifest, or null where the site was built without examples. Fetched once. */
export function loadManifest(): Promise<Manifest | null> {
  manifest ??= fetch(siteUrl(MANIFEST_PATH))
    .then((r) => (r.ok ? (r.json() as Promise<Manifest>) : null))
    .catch(() => null);
  return manifest;
}

/** A file's bytes, or undefined where it is missing (the photo is then encoded by the model). */
const bytesOf = (path: string): Promise<ArrayBuffer | undefined> =>
  fetch(siteUrl(path)).then(
    (r) => (r.ok ? r.arrayBuffer() : undefined),
    () => undefined,
  );

/**
 * Opens pair `index` (wrapping around), with its pins if `withPins`; the photos and their features download
 * together.
 */
export async function openExample(index: number, withPins = false) {
  const m = await loadManifest();
  if (!m || m.pairs.length === 0) return;
  const pair = m.pairs[index % m.pairs.length];
  const attribution = `Photo: ${m.attribution}.`;
  // The last example's pins meant points of its photos: they go without an "Undo" offer.
  clearPins();
  await Promise.all(
    (['source', 'target'] as const).map(async (side) => {
      const photo = pair[side];
      const [blob, shipped] = await Promise.all([fetch(siteUrl(photoPath(photo))).then((r) => r.blob()), bytesOf(featuresPath(photo))]);
      await openImage(side, blob, photo, attribution, shipped);
    }),
  );
  if (!withPins) return;
  for (const point of pair.pins) addPin('source', point);
  selectPin(null);
}

/** The page opens on an example (`?example=none`: on empty panes; `?example=2`: the third pair). */
export function openFirstExample() {
  if (exampleParam !== null) void openExample(exampleParam, true);
}
