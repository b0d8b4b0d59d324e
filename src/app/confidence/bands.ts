/**
 * A match's confidence in words. The confidence is calibrated (a match shown at 80 % is right about 8 times
 * in 10), so the bands are plain thresholds on it, shipped with the calibration (`metadata.confidence.bands`).
 */
import type { ConfidenceCalibration, ModelMetadata } from '../../model/index';

export type Bands = ConfidenceCalibration['bands'];
export type Band = 'likely' | 'unsure' | 'wrong';

/** Without a calibration every match is "unsure": no threshold means anything then. */
export const UNCALIBRATED: Bands = { likely: Infinity, unsure: -Infinity };

/** A model's bands, once its model.json is in. */
export const bandsOf = (metadata?: ModelMetadata): Bands => metadata?.confidence?.bands ?? UNCALIBRATED;

export const BAND_WORDS: Record<Band, string> = { likely: 'likely right', unsure: 'unsure', wrong: 'probably wrong' };

export const bandOf = (confidence: number, bands: Bands): Band =>
  confidence >= bands.likely ? 'likely' : confidence >= bands.unsure ? 'unsure' : 'wrong';

export const percent = (confidence: number) => `${Math.round(100 * confidence)} %`;

/** "likely right · 83 %". */
export const confidenceText = (match: { confidence: number; band: Band }) => `${BAND_WORDS[match.band]} · ${percent(match.confidence)}`;

/** The legend's entry per band, from the thresholds: "≥ 70 %". */
export function bandRanges(bands: Bands): { band: Band; range: string }[] {
  if (!Number.isFinite(bands.likely)) return [{ band: 'unsure', range: 'no calibration shipped with this model' }];
  return [
    { band: 'likely', range: `≥ ${percent(bands.likely)}` },
    { band: 'unsure', range: `${percent(bands.unsure)}–${percent(bands.likely)}` },
    { band: 'wrong', range: `< ${percent(bands.unsure)}` },
  ];
}

/** Every match of the pair is in doubt (none "likely right"): the images may not show the same kind of thing. */
export const allUncertain = (matches: readonly { band: Band }[]) => matches.length > 0 && matches.every((m) => m.band !== 'likely');

/** COCO keypoint visibility of a match: 2 when likely right, 1 when matched but in doubt, 0 when not matched. */
export const cocoVisibility = (match: { band: Band } | undefined): 0 | 1 | 2 => (!match ? 0 : match.band === 'likely' ? 2 : 1);
