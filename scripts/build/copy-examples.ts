/**
 * Copies the example pairs (scripts/build/example-pairs.ts), their gallery sets and the photos the tests drop into
 * public/examples/ (ignored by git, never committed) with an attribution manifest, for the app's first
 * screen and example strip. Caltech-101 is CC BY 4.0: the app shows the attribution next to every example.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExamplePair, Manifest } from '../../src/app/examples/files';
import { REPO_ROOT } from '../../src/model/testing/paths';
import { CALTECH_DIR, EXAMPLES, examplePhotos, galleryPhotos, photoName, TEST_PHOTOS } from './example-pairs';

const target = join(REPO_ROOT, 'public/examples');

const ATTRIBUTION = 'Caltech-101 (Fei-Fei Li, Rob Fergus, Pietro Perona, 2004; Caltech, CC BY 4.0), re-encoded and downscaled';

if (!existsSync(CALTECH_DIR)) {
  // A public clone has no ../shared: the app then simply opens empty and offers no examples.
  console.warn(`copy-examples: ${CALTECH_DIR} not found; the app will offer no examples`);
  writeManifest([]);
} else {
  mkdirSync(target, { recursive: true });
  for (const [category, file] of [...examplePhotos(), ...galleryPhotos(), ...TEST_PHOTOS]) {
    copyFileSync(join(CALTECH_DIR, category, file), join(target, photoName(category, file)));
  }
  writeManifest(
    EXAMPLES.map(({ category, label, source, target, pins, gallery }) => ({
      category,
      label,
      source: photoName(category, source),
      target: photoName(category, target),
      pins,
      gallery: gallery.map((file) => photoName(category, file)),
    })),
  );
  console.log(`copy-examples: ${EXAMPLES.length} pairs → public/examples/`);
}

function writeManifest(pairs: ExamplePair[]) {
  mkdirSync(target, { recursive: true });
  const manifest: Manifest = {
    licence: 'CC BY 4.0',
    licenceUrl: 'https://creativecommons.org/licenses/by/4.0/',
    attribution: ATTRIBUTION,
    pairs,
  };
  writeFileSync(join(target, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}
