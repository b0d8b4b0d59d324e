/**
 * A calibrated confidence: the probability that a match lands within α = 0.10 of the target's keypoint box
 * (PF-WILLOW's PCK criterion). A logistic model reads a few named signals the pair already has (its weights
 * name them, so a new signal is a field of `MatchSignals`, an entry of `SIGNALS` and a refit); its
 * constants, one set per mode/scale/flip, are fitted on held-out pairs (`npm run fit:confidence`) and ship
 * in the model metadata (`metadata.confidence`).
 */
import { DEFAULT_SCALE, FUSED_SCALES, INPUT_HEIGHT, INPUT_WIDTH, RAW_STRIDE, SCALE_INDICES, type ScaleIndex } from './constants';
import { hasOneGrid, type Grid } from './matching';
import type { MatchMode, Point } from './types';

/** What the calibrator reads of one match, raw (before `SIGNALS`' transforms). */
export interface MatchSignals {
  /** Heat-map probability of the peak cell. */
  probability: number;
  /** Logit gap between the peak and the second mode (the best cell outside `SECOND_MODE_RADIUS`). */
  margin: number;
  /** Entropy of the heat map over that of a flat one: 0 one cell, 1 no idea. */
  entropy: number;
  /** Forward–backward distance over the source's longer side. */
  backDistance: number;
  /**
   * Distance to the prediction at the companion scale (`companionScale`) over the target's longer side;
   * NaN when not computed (raw rows; a calibration that does not read it, unless `allSignals`).
   */
  scaleDistance: number;
  /** The pair's geometric consensus support of the peak cell, in [0, 1] (`Match.support`). */
  support: number;
  /**
   * How strongly the pair agrees as a whole, the same for all its points: the peak of its consensus histogram
   * (Σ clamp(cos, 0)³ at the dominant offset) per source cell. Unrelated images score low however sharp a row is.
   */
  agreement: number;
  /** Entropy of the row the prediction comes from (after the consensus weighed it), over log(cells). */
  weightedEntropy: number;
  /**
   * The trunk's cosine (`block3_unit22`, before the head, the prior's sharpening and the consensus) between the
   * query and the prediction; NaN when not computed.
   */
  rawCosine: number;
  /**
   * Neighbour agreement: the RMS distance, over the target's longer side, from the prediction to where the
   * query's neighbours (`NEIGHBOUR_OFFSETS`) land, each moved back by its offset; NaN when not computed.
   */
  spread: number;
}

export type SignalName = keyof MatchSignals;

export interface Signal {
  /** What the calibrator is linear in; finite for any value, NaN included (read as the worst). */
  feature: (value: number) => number;
  /** The sign the signal's weight must have: more of a good signal never lowers the confidence. */
  direction: 1 | -1;
}

/** A signal clamped to [lo, hi] (NaN: the bad end), then transformed. */
const signal = (direction: 1 | -1, lo: number, hi: number, transform = (v: number) => v): Signal => ({
  direction,
  feature: (v) => transform(Number.isNaN(v) ? (direction > 0 ? lo : hi) : Math.min(Math.max(v, lo), hi)),
});

/** Distances below ~1 % of the image are all "on the spot": the log stops resolving them there. */
const DISTANCE_FLOOR = 0.01;
const logDistance = (d: number) => Math.log(d + DISTANCE_FLOOR);

/** Each signal's feature and sign. The clamps keep degenerate rows (flat, one-hot, infinite logits) finite. */
export const SIGNALS: Record<SignalName, Signal> = {
  probability: signal(1, 1e-6, 1, Math.log),
  margin: signal(1, 0, 30),
  entropy: signal(-1, 0, 1),
  backDistance: signal(-1, 0, 2, logDistance),
  scaleDistance: signal(-1, 0, 2, logDistance),
  support: signal(1, 0, 1),
  agreement: signal(1, 1e-4, 1, Math.log),
  weightedEntropy: signal(-1, 0, 1),
  rawCosine: signal(1, -1, 1),
  spread: signal(-1, 0, 2, logDistance),
};

/** Cells within this many input pixels of the peak belong to its mode (the 3×3 window at stride 16). */
export const SECOND_MODE_RADIUS = 1.5 * RAW_STRIDE;

/** One mode/scale's logistic model: confidence = σ(bias + Σ weight · feature). */
export interface CalibratorConstants {
  bias: number;
  weights: Partial<Record<SignalName, number>>;
}

/** The fitted calibration as shipped (models/confidence.json → `metadata.confidence`). */
export interface ConfidenceCalibration {
  /** PCK threshold the confidence refers to (fraction of the target's keypoint box). */
  alpha: number;
  /** Where the app's words change: "likely right" from `likely` up, "probably wrong" below `unsure`. */
  bands: { likely: number; unsure: number };
  /** What the constants were fitted on. */
  fittedOn: string;
  /** By `calibrationKey`. */
  models: Record<string, CalibratorConstants>;
}

/** One prediction setting, as the calibration tells them apart. */
export interface PredictionSetting {
  mode: MatchMode;
  scale: ScaleIndex;
  flip: boolean;
  /** The pair's geometric consensus weighs the rows (`MatchOptions.consensus`). */
  consensus: boolean;
}

/**
 * Names a setting: `fused+hough@s3`, `mmnet+flip@s2`, `raw`, `hyper+hough` (one grid, no flip). The mirror
 * rule is the model's default with the consensus, so it is not named.
 */
export const calibrationKey = ({ mode, scale, flip, consensus }: PredictionSetting): string =>
  `${mode}${flip && !hasOneGrid(mode) ? '+flip' : ''}${consensus ? '+hough' : ''}${hasOneGrid(mode) ? '' : `@s${scale}`}`;

/** Every setting `match` accepts (raw and hyper have one grid and no flip), each with and without the consensus. */
export const PREDICTION_SETTINGS: readonly PredictionSetting[] = [true, false].flatMap((consensus) => [
  ...(['fused', 'mmnet'] as const).flatMap((mode) =>
    [false, true].flatMap((flip) => (mode === 'fused' ? FUSED_SCALES : SCALE_INDICES).map((scale) => ({ mode, scale, flip, consensus }))),
  ),
  ...(['raw', 'hyper'] as const).map((mode) => ({ mode, scale: DEFAULT_SCALE, flip: false, consensus })),
]);

/**
 * The scale whose prediction `scaleDistance` compares against: the coarser neighbour where the mode has
 * one, else the finer. Raw and hyperpixel rows have a single grid, so none.
 */
export function companionScale(mode: MatchMode, scale: ScaleIndex): ScaleIndex | undefined {
  if (hasOneGrid(mode)) return undefined;
  const scales = mode === 'fused' ? FUSED_SCALES : SCALE_INDICES;
  return scales.includes((scale + 1) as ScaleIndex) ? ((scale + 1) as ScaleIndex) : ((scale - 1) as ScaleIndex);
}

/** The linear score of a model (its logit), from the signals it names. */
export function calibratorLogit(signals: MatchSignals, constants: CalibratorConstants): number {
  let logit = constants.bias;
  for (const [name, weight] of Object.entries(constants.weights) as [SignalName, number][]) {
    logit += weight * SIGNALS[name].feature(signals[name]);
  }
  return logit;
}

export const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The calibrated confidence, in [0, 1]; without constants for the setting, the peak probability stands in. */
export function confidenceOf(signals: MatchSignals, constants: CalibratorConstants | undefined): number {
  const confidence = constants ? sigmoid(calibratorLogit(signals, constants)) : signals.probability;
  return Number.isNaN(confidence) ? 0 : Math.min(Math.max(confidence, 0), 1);
}

/** The calibrator reads a signal (those that cost extra rows are computed only then). */
export const readsSignal = (constants: CalibratorConstants | undefined, name: SignalName) => !!constants?.weights[name];

/** Entropy of softmax(scale · row[offset … offset+cells)) over log(cells), in [0, 1] (NaN for a NaN row). */
export function rowEntropy(row: ArrayLike<number>, cells: number, offset = 0, scale = 1): number {
  let max = -Infinity;
  for (let k = 0; k < cells; k++) max = Math.max(max, row[offset + k] * scale);
  let sum = 0;
  let weighted = 0;
  for (let k = 0; k < cells; k++) {
    const z = row[offset + k] * scale - max;
    const e = Math.exp(z);
    sum += e;
    if (e > 0) weighted += e * z;
  }
  // H = log Σe − Σ e·z / Σe, with z the logits less their max.
  return (Math.log(sum) - weighted / sum) / Math.log(cells);
}

/**
 * The logit gap (in heat-map logits, `scale` · row) between the peak cell and the best cell farther than
 * `SECOND_MODE_RADIUS` from it; 0 for a flat row. `grid` is the row's grid, its first value at `offset`.
 */
export function secondModeMargin(row: ArrayLike<number>, grid: Grid, offset: number, peakCell: number, scale = 1): number {
  const reach = Math.floor(SECOND_MODE_RADIUS / grid.stride);
  const pi = Math.floor(peakCell / grid.width);
  const pj = peakCell % grid.width;
  let second = -Infinity;
  for (let i = 0; i < grid.height; i++) {
    const near = Math.abs(i - pi) <= reach;
    for (let j = 0; j < grid.width; j++) {
      if (near && Math.abs(j - pj) <= reach) continue;
      second = Math.max(second, row[offset + i * grid.width + j]);
    }
  }
  const gap = scale * (row[offset + peakCell] - second);
  // No cell outside the mode (a tiny grid) or an infinite peak: the largest margin; NaN: none.
  return Number.isNaN(gap) ? 0 : second === -Infinity ? Infinity : gap;
}

/**
 * The neighbours `spread` asks about, around a query (input pixels): two prior cells left, right, up and down
 * (chosen on val over one cell and the eight cells around: docs/confidence.md).
 */
const NEIGHBOUR_REACH = 2 * RAW_STRIDE;
export const NEIGHBOUR_OFFSETS: readonly Point[] = [
  { x: -NEIGHBOUR_REACH, y: 0 },
  { x: NEIGHBOUR_REACH, y: 0 },
  { x: 0, y: -NEIGHBOUR_REACH },
  { x: 0, y: NEIGHBOUR_REACH },
];

/** A query's neighbours in input coordinates, kept inside the image (a clamped one is nearer). */
export const neighboursOf = (q: Point): Point[] =>
  NEIGHBOUR_OFFSETS.map((o) => ({ x: Math.min(Math.max(q.x + o.x, 0), INPUT_WIDTH), y: Math.min(Math.max(q.y + o.y, 0), INPUT_HEIGHT) }));

/**
 * RMS distance from `prediction` to each neighbour's prediction moved back by the neighbour's offset from
 * the query (all input coordinates): 0 when the neighbourhood moves as one.
 */
export function neighbourSpread(query: Point, prediction: Point, neighbours: readonly Point[], predictions: readonly Point[]): number {
  let sum = 0;
  neighbours.forEach((n, k) => {
    sum += (predictions[k].x - (n.x - query.x) - prediction.x) ** 2 + (predictions[k].y - (n.y - query.y) - prediction.y) ** 2;
  });
  return Math.sqrt(sum / neighbours.length);
}
