/** The matches of PF-WILLOW pairs with what the calibrator and its judges need: signals, confidence, right or wrong. */
import type { Features, Match, MMNet, PredictionSetting } from '../../src/model';
import { boxErrors, queriesOf, type Willow } from './willow';

/** The PCK threshold `confidence` predicts (SPEC §4: α = 0.10 of the target's keypoint box). */
export const ALPHA = 0.1;

export interface JudgedMatch extends Match {
  /** Distance to the target keypoint in units of its box. */
  error: number;
  /** Within `ALPHA`. */
  right: boolean;
}

/** Every keypoint of every pair matched with one setting, judged. */
export async function collectMatches(willow: Willow, pairs: Willow['pairs'], model: MMNet, features: Map<string, Features>, setting: PredictionSetting): Promise<JudgedMatch[]> {
  const judged: JudgedMatch[] = [];
  for (const pair of pairs) {
    const matches = await model.match(features.get(pair.source)!, features.get(pair.target)!, queriesOf(willow, pair), { ...setting, allSignals: true });
    const errors = boxErrors(
      willow.images[pair.target].keypoints,
      matches.map((m) => m.target),
    );
    matches.forEach((m, n) => judged.push({ ...m, error: errors[n], right: errors[n] <= ALPHA }));
  }
  return judged;
}
