/**
 * The examples: same-category Caltech-101 pairs copied into `examples/` at build time, each with its
 * features (computed by `npm run models`) and the pins the first screen shows matched. The page opens on the
 * first one, which answers before the model has loaded.
 */
import { openImage, shipConsensus } from '../engine';
import { addToGallery, removeFromGallery, setGallery } from '../gallery/engine';
import { useGallery } from '../gallery/gallery';
import { exampleParam } from '../params';
import { addPin, clearPins, selectPin, useStore } from '../store';
import { withFirstMatches } from './firstMatches';
import { consensusPath, featuresPath, photoCredit, type FirstMatches } from './files';
import { bytesOf, firstMatchesOf, loadManifest, photoBlob } from './site';

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
  const consensus =
    !inGallery && Promise.all([bytesOf(consensusPath(pair.source, pair.target)), bytesOf(consensusPath(pair.target, pair.source))]);
  const opened = Promise.all(
    sides.map(async (side) => {
      const photo = pair[side];
      // The photo first: the features (0.4 MiB) would hold up its connection behind theirs and the weights'.
      const blob = photoBlob(photo);
      const shipped = bytesOf(featuresPath(photo));
      await openImage(side, await blob, photo, photoCredit(m), shipped);
      return useStore.getState().images[side]?.digest;
    }),
  );
  const [first, digests] = await Promise.all([
    withPins && !inGallery ? firstMatchesOf(pair) : undefined,
    opened,
    inGallery && fillGallery([pair.target, ...pair.gallery], `Photos: ${m.attribution}.`),
  ]);
  if (consensus) void consensus.then((files) => shipPairConsensus(digests, files));
  if (!withPins && !inGallery) return;
  for (const point of pair.pins) addPin('source', point);
  if (first) showFirstMatches(first);
  selectPin(null);
}

/** The pair's consensus files, where both came and both photos opened (a site built without them has none). */
function shipPairConsensus([source, target]: (string | undefined)[], [forward, backward]: (ArrayBuffer | undefined)[]) {
  if (source && target && forward && backward) shipConsensus(source, target, forward, backward);
}

/** The gallery's targets replaced by example photos, its grid shown. */
async function fillGallery(photos: string[], attribution: string) {
  const files = await Promise.all(photos.map(async (photo) => new File([await photoBlob(photo)], photo, { type: 'image/jpeg' })));
  setGallery(true);
  removeFromGallery(useGallery.getState().items.map((item) => item.id));
  await addToGallery(files, attribution);
}

/**
 * The example's pins answered with what `npm run models` matched (the same features and library), drawn
 * before the worker has started; the worker's own answers replace them as soon as it has read the features.
 */
function showFirstMatches(first: FirstMatches) {
  const { pins, settings } = useStore.getState();
  const answered = withFirstMatches(pins, first, settings);
  if (answered) useStore.setState({ pins: answered });
}

/** The page opens on an example (`?example=none`: on empty panes; `?example=2`: the third pair). */
export function openFirstExample() {
  if (exampleParam !== null) void openExample(exampleParam, true);
}
