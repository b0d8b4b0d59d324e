import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  calibrationKey,
  companionScale,
  confidenceOf,
  neighboursOf,
  neighbourSpread,
  PREDICTION_SETTINGS,
  rowEntropy,
  secondModeMargin,
  SIGNALS,
  type CalibratorConstants,
  type ConfidenceCalibration,
  type MatchSignals,
  type SignalName,
} from './confidence';
import { cellProbability, gridOf } from './matching';
import { CONFIDENCE_FILE } from './testing/paths';

const shipped = JSON.parse(readFileSync(CONFIDENCE_FILE, 'utf8')) as ConfidenceCalibration;
const typical: MatchSignals = {
  probability: 0.3,
  margin: 2,
  entropy: 0.4,
  backDistance: 0.03,
  scaleDistance: 0.02,
  support: 0.5,
  agreement: 0.1,
  weightedEntropy: 0.3,
  rawCosine: 0.5,
  spread: 0.03,
};
const grid = gridOf(16); // 14 × 20

/** Signals of one row as `readMatches` takes them, for rows the network never makes. */
function rowSignals(row: Float32Array): MatchSignals {
  let peak = 0;
  for (let k = 1; k < row.length; k++) if (row[k] > row[peak]) peak = k;
  return {
    probability: cellProbability(row, row.length, 0, peak),
    margin: secondModeMargin(row, grid, 0, peak),
    entropy: rowEntropy(row, row.length),
    backDistance: 0,
    scaleDistance: 0,
    support: 0,
    agreement: 0,
    weightedEntropy: rowEntropy(row, row.length),
    rawCosine: NaN,
    spread: NaN,
  };
}

describe('confidenceOf', () => {
  it.each(Object.entries(shipped.models))('%s: rises with every good signal and falls with every bad one', (_, constants) => {
    const steps: Record<SignalName, number[]> = {
      probability: [0.001, 0.01, 0.1, 0.3, 0.6, 0.9, 1],
      margin: [0, 0.5, 1, 2, 4, 8, 40],
      entropy: [0, 0.1, 0.3, 0.5, 0.8, 1],
      support: [0, 0.1, 0.4, 0.8, 1],
      agreement: [0, 0.001, 0.01, 0.05, 0.2, 0.5, 1],
      backDistance: [0, 0.005, 0.02, 0.05, 0.1, 0.3, 1, 5],
      scaleDistance: [0, 0.005, 0.02, 0.05, 0.1, 0.3, 1, 5],
      weightedEntropy: [0, 0.1, 0.3, 0.5, 0.8, 1],
      rawCosine: [-2, -1, -0.2, 0, 0.2, 0.4, 0.6, 0.8, 1, 2],
      spread: [0, 0.005, 0.02, 0.05, 0.1, 0.3, 1, 5],
    };
    for (const [name, values] of Object.entries(steps) as [SignalName, number[]][]) {
      const confidences = values.map((v) => confidenceOf({ ...typical, [name]: v }, constants));
      const ordered = SIGNALS[name].direction > 0 ? confidences : [...confidences].reverse();
      for (let k = 1; k < ordered.length; k++) expect(ordered[k]).toBeGreaterThanOrEqual(ordered[k - 1]);
    }
  });

  it('ships constants for every setting the library accepts, each weight of the declared sign', () => {
    const keys = PREDICTION_SETTINGS.map(calibrationKey);
    // fused (3 scales) and mmnet (4), each flipped or not, plus raw and hyper (one grid each); with and without the consensus.
    expect(new Set(keys).size).toBe(2 * (2 * 3 + 2 * 4 + 2));
    expect(Object.keys(shipped.models).sort()).toEqual(keys.sort());
    for (const constants of Object.values(shipped.models)) {
      for (const [name, weight] of Object.entries(constants.weights) as [SignalName, number][]) {
        expect(weight * SIGNALS[name].direction).toBeGreaterThanOrEqual(0);
      }
    }
    expect(shipped.bands.unsure).toBeLessThan(shipped.bands.likely);
  });

  const constants: CalibratorConstants = shipped.models[calibrationKey({ mode: 'fused', scale: 3, flip: false, consensus: true })];

  it.each([
    ['a flat row', new Float32Array(grid.height * grid.width).fill(0.25)],
    ['a one-hot row', Float32Array.from({ length: grid.height * grid.width }, (_, k) => (k === 37 ? 1 : 0))],
    [
      'a one-hot row of infinite logits',
      Float32Array.from({ length: grid.height * grid.width }, (_, k) => (k === 37 ? Infinity : -Infinity)),
    ],
    ['a row of NaN', new Float32Array(grid.height * grid.width).fill(NaN)],
  ])('stays in [0, 1] and NaN-free for %s', (_, row) => {
    const signals = rowSignals(row);
    const confidence = confidenceOf(signals, constants);
    expect(Number.isNaN(confidence)).toBe(false);
    expect(confidence).toBeGreaterThanOrEqual(0);
    expect(confidence).toBeLessThanOrEqual(1);
    for (const [name, { feature }] of Object.entries(SIGNALS) as [SignalName, (typeof SIGNALS)[SignalName]][]) {
      expect(Number.isFinite(feature(signals[name]))).toBe(true);
    }
  });

  it('rates a flat row below a peaked one', () => {
    const flat = rowSignals(new Float32Array(grid.height * grid.width).fill(0.25));
    const peaked = rowSignals(Float32Array.from({ length: grid.height * grid.width }, (_, k) => (k === 37 ? 8 : 0)));
    expect(flat.margin).toBe(0);
    expect(confidenceOf(flat, constants)).toBeLessThan(confidenceOf(peaked, constants));
  });

  it('falls back to the peak probability without constants', () => {
    expect(confidenceOf(typical, undefined)).toBe(typical.probability);
  });
});

describe('secondModeMargin', () => {
  it('skips the peak’s own mode: the gap is to the best cell beyond the radius', () => {
    const row = new Float32Array(grid.height * grid.width);
    row[5 * grid.width + 5] = 6; // the peak
    row[5 * grid.width + 6] = 5; // its shoulder, same mode
    row[10 * grid.width + 15] = 2; // the second mode
    expect(secondModeMargin(row, grid, 0, 5 * grid.width + 5)).toBe(4);
  });
});

describe('neighbourSpread', () => {
  const query = { x: 100, y: 80 };
  const neighbours = neighboursOf(query);

  it('is 0 when the neighbourhood moves as one, whatever the translation', () => {
    const shift = (p: { x: number; y: number }) => ({ x: p.x + 37, y: p.y - 12 });
    expect(neighbourSpread(query, shift(query), neighbours, neighbours.map(shift))).toBeCloseTo(0, 9);
  });

  it('is the RMS distance of the neighbours’ transferred predictions from the prediction', () => {
    // Every neighbour lands on the query's own prediction: each moved back lies its offset (two prior cells) away.
    const landing = { x: 200, y: 50 };
    expect(
      neighbourSpread(
        query,
        landing,
        neighbours,
        neighbours.map(() => landing),
      ),
    ).toBeCloseTo(32, 9);
  });

  it('keeps the neighbours inside the image (one moved back by a shorter offset)', () => {
    const corner = neighboursOf({ x: 4, y: 4 });
    expect(corner.every((p) => p.x >= 0 && p.y >= 0)).toBe(true);
    expect(corner[0]).toEqual({ x: 0, y: 4 });
    // Moved back by its real offset (4 px), a neighbour that lands 4 px left of the prediction agrees.
    const predictions = corner.map((n) => ({ x: 50 + n.x - 4, y: 60 + n.y - 4 }));
    expect(neighbourSpread({ x: 4, y: 4 }, { x: 50, y: 60 }, corner, predictions)).toBeCloseTo(0, 9);
  });
});

describe('rowEntropy', () => {
  it('is 1 for a flat row, 0 for a one-hot one, ½ for mass spread evenly over √cells', () => {
    expect(rowEntropy(new Float32Array(16).fill(3), 16)).toBeCloseTo(1, 6);
    expect(
      rowEntropy(
        Float32Array.from({ length: 16 }, (_, k) => (k === 2 ? 1000 : 0)),
        16,
      ),
    ).toBeCloseTo(0, 6);
    expect(
      rowEntropy(
        Float32Array.from({ length: 16 }, (_, k) => (k < 4 ? 0 : -Infinity)),
        16,
      ),
    ).toBeCloseTo(0.5, 6);
  });
});

describe('companionScale', () => {
  it('is the coarser neighbour the mode has, else the finer; none for raw', () => {
    expect(companionScale('fused', 3)).toBe(2);
    expect(companionScale('fused', 1)).toBe(2);
    expect(companionScale('mmnet', 3)).toBe(4);
    expect(companionScale('mmnet', 4)).toBe(3);
    expect(companionScale('raw', 3)).toBeUndefined();
  });
});
