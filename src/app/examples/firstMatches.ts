/** The example's build-time answers (`FirstMatches`) put on its pins: by the page's first view and by the app. */
import type { MatchSettings } from '../protocol';
import { pinColor, type Pin } from '../store';
import type { ExamplePair, FirstMatches } from './files';

/** Stands for "matched at build time": no query has this key, so the engine asks the worker all the same. */
export const FIRST_MATCH_KEY = 'first-matches';

const sameSettings = (a: MatchSettings, b: MatchSettings) => a.mode === b.mode && a.scale === b.scale && a.flip === b.flip;

/**
 * `pins` (the pair's, in its order) answered with the build-time matches, or null where those answer other
 * settings than `current` or other pins.
 */
export function withFirstMatches(pins: readonly Pin[], { settings, matches }: FirstMatches, current: MatchSettings): Pin[] | null {
  if (!sameSettings(settings, current) || matches.length !== pins.length) return null;
  return pins.map((pin, n) => ({ ...pin, result: { ...matches[n], key: FIRST_MATCH_KEY } }));
}

/** The pair's pins as a fresh page places them (numbered from 1, on the source), answered at build time; null where they cannot be. */
export function firstPins(pair: ExamplePair, first: FirstMatches | undefined, settings: MatchSettings): Pin[] | null {
  if (!first) return null;
  const pins = pair.pins.map((point, k): Pin => ({ id: k + 1, side: 'source', point, color: pinColor(k + 1), name: '' }));
  return withFirstMatches(pins, first, settings);
}
