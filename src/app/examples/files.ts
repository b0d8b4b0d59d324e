/** Where the site keeps the examples: photos and manifest under `examples/`, their features beside the model. */
import { MODEL_NAME } from '../../model/constants';
import type { Point } from '../../model/types';

export const MANIFEST_PATH = 'examples/manifest.json';

export const photoPath = (photo: string) => `examples/${photo}`;

/** Written by `npm run models` (scripts/build/example-features.ts) with the model it was computed by. */
export const featuresPath = (photo: string) => `models/${MODEL_NAME}/examples/${photo}.features`;

export interface ExamplePair {
  category: string;
  label: string;
  /** Photo names under `examples/`. */
  source: string;
  target: string;
  /** Where the first screen places pins, in source-image pixels. */
  pins: Point[];
  /** Further photos under `examples/`: with `target`, the gallery's targets when the example opens in gallery mode. */
  gallery: string[];
}

export interface Manifest {
  attribution: string;
  licence: string;
  licenceUrl: string;
  pairs: ExamplePair[];
}
