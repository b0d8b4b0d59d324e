/**
 * The example pairs the app opens on and offers in its strip: same-category Caltech-101 photos (CC BY 4.0),
 * sharp, in colour, the object in the same pose, each photo at most 288 px (shown at most 2× its size). The
 * pins are the points the first screen shows matched, in source-image pixels (eyes, nose, …).
 */
import { join } from 'node:path';
import { SHARED_DIR } from '../../src/model/testing/paths';
import type { ExamplePair } from '../../src/app/examples/files';

/** Where the photos come from (read-only; absent in a public clone). */
export const CALTECH_DIR = join(SHARED_DIR, 'datasets/caltech101-subset');

/** The category is the photos' folder in the Caltech subset; the strip shows the label. */
export const EXAMPLES: ExamplePair[] = [
  {
    category: 'Faces_easy',
    label: 'Faces',
    source: '002.jpg',
    target: '003.jpg',
    pins: [
      { x: 107, y: 156 },
      { x: 172, y: 156 },
      { x: 140, y: 196 },
      { x: 140, y: 229 },
    ],
    gallery: ['001.jpg', '005.jpg', '008.jpg'],
  },
  {
    category: 'dalmatian',
    label: 'Dalmatians',
    source: '002.jpg',
    target: '008.jpg',
    pins: [
      { x: 110, y: 86 },
      { x: 175, y: 86 },
      { x: 140, y: 146 },
      { x: 145, y: 230 },
    ],
    gallery: ['000.jpg', '014.jpg', '018.jpg'],
  },
  {
    category: 'cougar_face',
    label: 'Cougars',
    source: '005.jpg',
    target: '009.jpg',
    pins: [
      { x: 83, y: 143 },
      { x: 182, y: 143 },
      { x: 140, y: 212 },
    ],
    gallery: ['008.jpg', '013.jpg', '022.jpg'],
  },
  {
    category: 'rooster',
    label: 'Roosters',
    source: '001.jpg',
    target: '002.jpg',
    pins: [
      { x: 210, y: 30 },
      { x: 80, y: 100 },
      { x: 190, y: 150 },
      { x: 160, y: 240 },
    ],
    gallery: ['005.jpg', '020.jpg', '023.jpg'],
  },
];

/** Further photos copied beside the examples, which the e2e specs and the benchmark drop as a visitor's own. */
export const TEST_PHOTOS: [category: string, file: string][] = [
  ['car_side', '000.jpg'],
  ['car_side', '001.jpg'],
  ['Motorbikes', '000.jpg'],
  ['Motorbikes', '002.jpg'],
  ['dalmatian', '000.jpg'],
  ['dalmatian', '001.jpg'],
  ['Faces_easy', '000.jpg'],
  ['Faces_easy', '001.jpg'],
];

/** The name of a copied photo in the site's `examples/`. */
export const photoName = (category: string, file: string) => `${category}-${file}`;

/** Every photo of the example pairs, as [category, file] (these have shipped features). */
export const examplePhotos = (): [category: string, file: string][] =>
  EXAMPLES.flatMap((e) => [
    [e.category, e.source],
    [e.category, e.target],
  ]);

/** The further photos of the examples' gallery sets, as [category, file] (encoded in the browser, like a visitor's). */
export const galleryPhotos = (): [category: string, file: string][] =>
  EXAMPLES.flatMap((e) => e.gallery.map((file): [string, string] => [e.category, file]));
