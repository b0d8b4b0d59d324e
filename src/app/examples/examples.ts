/**
 * The examples: same-category Caltech-101 pairs copied into `examples/` at build time, each with its
 * features (computed by `npm run models`) and the pins the first screen shows matched. The page opens on the
 * first one, which answers before the model has loaded.
 */
import { openImage } from '../engine';
import { addToGallery, removeFromGallery, setGallery } from '../gallery/engine';
import { useGallery } from '../gallery/gallery';
import { exampleParam } from '../params';
import type { MatchSettings } from '../protocol';
import { addPin, clearPins, selectPin, useStore } from '../store';
import { featuresPath, firstMatchesPath, MANIFEST_PATH, photoPath, type ExamplePair, type FirstMatches, type Manifest } from './files';

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
  const [first] = await Promise.all([
    withPins && !inGallery ? firstMatchesOf(pair) : undefined,
    ...sides.map(async (side) => {
      const photo = pair[side];
      // The photo first: the features (0.4 MiB) would hold up its connection behind theirs and the weights'.
      const blob = photoBlob(photo);
      const shipped = bytesOf(featuresPath(photo));
      await openImage(side, await blob, photo, `Photo: ${m.attribution}.`, shipped);
    }),
    inGallery && fillGallery([pair.target, ...pair.gallery], `Photos: ${m.attribution}.`),
  ]);
  if (!withPins && !inGallery) return;
  for (const point of pair.pins) addPin('source', point);
  if (first) showFirstMatches(first);
  selectPin(null);
}

/** The gallery's targets replaced by example photos, its grid shown. */
async function fillGallery(photos: string[], attribution: string) {
  const files = await Promise.all(photos.map(async (photo) => new File([await photoBlob(photo)], photo, { type: 'image/jpeg' })));
  setGallery(true);
  removeFromGallery(useGallery.getState().items.map((item) => item.id));
  await addToGallery(files, attribution);
}

/** Stands for "matched at build time": no query has this key, so the engine asks the worker all the same. */
const FIRST_MATCH_KEY = 'first-matches';

/** The pair's build-time answers, or undefined where the site has none. */
const firstMatchesOf = (pair: ExamplePair): Promise<FirstMatches | undefined> =>
  fetch(siteUrl(firstMatchesPath(pair))).then(
    (r) => (r.ok ? (r.json() as Promise<FirstMatches>) : undefined),
    () => undefined,
  );

/**
 * The example's pins answered with what `npm run models` matched (the same features and library), drawn
 * before the worker has started; the worker's own answers replace them as soon as it has read the features.
 */
function showFirstMatches({ settings, matches }: FirstMatches) {
  const { pins, settings: current } = useStore.getState();
  if (!sameSettings(settings, current) || matches.length !== pins.length) return;
  useStore.setState({ pins: pins.map((pin, n) => ({ ...pin, result: { ...matches[n], key: FIRST_MATCH_KEY } })) });
}

const sameSettings = (a: MatchSettings, b: MatchSettings) => a.mode === b.mode && a.scale === b.scale && a.flip === b.flip;

/** The page opens on an example (`?example=none`: on empty panes; `?example=2`: the third pair). */
export function openFirstExample() {
  if (exampleParam !== null) void openExample(exampleParam, true);
}
