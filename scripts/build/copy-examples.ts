/**
 * Copies a few same-category Caltech-101 pairs into public/examples/ (ignored by git, never committed) with
 * an attribution manifest, for the app's "Try an example". Caltech-101 is CC BY 4.0: the app shows the
 * attribution next to every example.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, SHARED_DIR } from '../../src/model/testing/paths';

const source = join(SHARED_DIR, 'datasets/caltech101-subset');
const target = join(REPO_ROOT, 'public/examples');

/** Category and the two photos of each pair: clear, same-pose objects that show matching well. */
const PAIRS: [category: string, a: string, b: string][] = [
  ['car_side', '000.jpg', '001.jpg'],
  ['Motorbikes', '000.jpg', '002.jpg'],
  ['dalmatian', '000.jpg', '001.jpg'],
  ['Faces_easy', '000.jpg', '001.jpg'],
];

const ATTRIBUTION = 'Caltech-101 (Fei-Fei Li, Rob Fergus, Pietro Perona, 2004; Caltech, CC BY 4.0), re-encoded and downscaled';

if (!existsSync(source)) {
  // A public clone has no ../shared: the app then simply offers no examples.
  console.warn(`copy-examples: ${source} not found; "Try an example" will be hidden`);
  writeManifest([]);
} else {
  mkdirSync(target, { recursive: true });
  const pairs = PAIRS.map(([category, a, b]) => ({
    category,
    source: copy(category, a),
    target: copy(category, b),
  }));
  writeManifest(pairs);
  console.log(`copy-examples: ${pairs.length} pairs → public/examples/`);
}

function copy(category: string, file: string): string {
  const name = `${category}-${file}`;
  copyFileSync(join(source, category, file), join(target, name));
  return name;
}

function writeManifest(pairs: { category: string; source: string; target: string }[]) {
  mkdirSync(target, { recursive: true });
  const manifest = {
    licence: 'CC BY 4.0',
    licenceUrl: 'https://creativecommons.org/licenses/by/4.0/',
    attribution: ATTRIBUTION,
    pairs,
  };
  writeFileSync(join(target, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}
