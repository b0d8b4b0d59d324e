/**
 * A library `Match` as the app shows it: in original pixels of both images, rated in words, checked both
 * ways. The worker answers with these; `npm run models` writes the example's first answers with them too.
 */
import type { Match, Point } from '../model/index';
import { bandOf, type Bands } from './confidence/bands';
import { isConsistent } from './geometry';
import type { Correspondence } from './protocol';

/** An image as matched: its original size and that of its encoded (possibly downscaled) copy. */
export interface EncodedImage {
  width: number;
  height: number;
  features: { width: number; height: number };
}

export const toEncoded = (p: Point, image: EncodedImage): Point => ({
  x: (p.x * image.features.width) / image.width,
  y: (p.y * image.features.height) / image.height,
});

export const toOriginal = (p: Point, image: EncodedImage): Point => ({
  x: (p.x * image.width) / image.features.width,
  y: (p.y * image.height) / image.features.height,
});

/** `found`, the library's answer to `query` (original pixels of `from`), as a correspondence. */
export function toCorrespondence(found: Match, query: Point, from: EncodedImage, to: EncodedImage, bands: Bands): Correspondence {
  const backError = (found.backError * from.width) / from.features.width;
  return {
    query,
    match: toOriginal(found.target, to),
    probability: found.probability,
    confidence: found.confidence,
    band: bandOf(found.confidence, bands),
    backError,
    consistent: isConsistent(backError, from.width, from.height),
    mirrored: found.mirrored,
  };
}
