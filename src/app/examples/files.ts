/** Where the site keeps the examples: photos and manifest under `examples/`, their features beside the model. */
import { MODEL_NAME } from '../../model/constants';
import type { Point } from '../../model/types';
import type { Correspondence, MatchSettings } from '../protocol';

export const MANIFEST_PATH = 'examples/manifest.json';

export const photoPath = (photo: string) => `examples/${photo}`;

/** Written by `npm run models` (scripts/build/example-features.ts) with the model it was computed by. */
export const featuresPath = (photo: string) => `models/${MODEL_NAME}/examples/${photo}.features`;

/**
 * A pair's first answers: its pins matched by `npm run models` on the shipped features, with the library
 * and the settings the panes use (no mirror rule: the page has no weights yet). The page shows them until
 * its own matching of those features answers (a second or two later); every further click is matched live.
 */
export const firstMatchesPath = (pair: Pick<ExamplePair, 'source' | 'target'>) =>
  `models/${MODEL_NAME}/examples/${pair.source}--${pair.target}.matches.json`;

/**
 * A pair's consensus (src/model/consensus-file.ts), written by `npm run models` beside its first matches, one
 * file per direction: the first click's match and its backward check then skip the pair's one-off work, which
 * takes seconds on tfjs's cpu backend before the weights arrive.
 */
export const consensusPath = (source: string, target: string) => `models/${MODEL_NAME}/examples/${source}--${target}.consensus`;

export interface FirstMatches {
  settings: MatchSettings;
  /** One per pin, in the pair's order. */
  matches: Correspondence[];
}

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

/** The credit under each example photo. */
export const photoCredit = (m: Manifest) => `Photo: ${m.attribution}.`;

export interface Manifest {
  attribution: string;
  licence: string;
  licenceUrl: string;
  pairs: ExamplePair[];
}
