/**
 * The examples: same-category Caltech-101 pairs copied into `examples/` at build time, each with its
 * features (computed by `npm run models`) and the pins the first screen shows matched. The page opens on the
 * first one, which answers before the model has loaded.
 */
import { openImage } from '../engine';
import { addToGallery, removeFromGallery, setGallery } from '../gallery/engine';
import { useGallery } from '../gallery/gallery';
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

const photoBlob = (photo: string): Promise<Blob> => fetch(siteUrl(photoPath(photo))).then((r) => r.blob());

/**
 * Opens pair `index` (wrapping around), with its pins if `withPins`; the photos and their features download
 * together. In gallery mode the example fills the grid instead of the target pane (its target and the
 * further photos of its category), with its pins, so every thumbnail shows their matches.
 */
export async function openExample(index: number, withPins = false) {
  const m = await loadManifest();
  if (!m || m.pairs.length === 0) return;
  const pair = m.pairs[index % m.pairs.length];
  const inGallery = useGallery.getState().on;
  // The last example's pins meant points of its photos: they go without an "Undo" offer.
  clearPins();
  const sides = inGallery ? (['source'] as const) : (['source', 'target'] as const);
  await Promise.all([
    ...sides.map(async (side) => {
      const photo = pair[side];
      const [blob, shipped] = await Promise.all([photoBlob(photo), bytesOf(featuresPath(photo))]);
      await openImage(side, blob, photo, `Photo: ${m.attribution}.`, shipped);
    }),
    inGallery && fillGallery([pair.target, ...pair.gallery], `Photos: ${m.attribution}.`),
  ]);
  if (!withPins && !inGallery) return;
  for (const point of pair.pins) addPin('source', point);
  selectPin(null);
}

/** The gallery's targets replaced by example photos, its grid shown. */
async function fillGallery(photos: string[], attribution: string) {
  const files = await Promise.all(photos.map(async (photo) => new File([await photoBlob(photo)], photo, { type: 'image/jpeg' })));
  setGallery(true);
  removeFromGallery(useGallery.getState().items.map((item) => item.id));
  await addToGallery(files, attribution);
}

/** The page opens on an example (`?example=none`: on empty panes; `?example=2`: the third pair). */
export function openFirstExample() {
  if (exampleParam !== null) void openExample(exampleParam, true);
}
