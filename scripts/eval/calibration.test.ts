import { describe, expect, it } from 'vitest';
import { auroc, ece, fitLogistic, predictLogistic, reliability, type Example } from './calibration';

/** A seeded generator (mulberry32), so the synthetic sets are the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Examples drawn from a known logistic model: x ~ U(−2, 2)², P(right) = σ(bias + w·x). */
function synthetic(bias: number, weights: number[], count: number, seed = 1): Example[] {
  const next = random(seed);
  return Array.from({ length: count }, () => {
    const features = weights.map(() => next() * 4 - 2);
    const p = 1 / (1 + Math.exp(-(bias + features.reduce((s, v, k) => s + v * weights[k], 0))));
    return { features, right: next() < p };
  });
}

describe('fitLogistic', () => {
  it('recovers the constants of the model that drew the data', () => {
    const fit = fitLogistic(synthetic(-0.5, [1.5, -2], 20000), [1, -1]);
    expect(fit.bias).toBeCloseTo(-0.5, 1);
    expect(fit.weights[0]).toBeCloseTo(1.5, 1);
    expect(fit.weights[1]).toBeCloseTo(-2, 1);
  });

  it('holds a weight whose sign the data contradicts at 0 and fits the rest', () => {
    // The second feature truly lowers the chance, but its weight is declared non-negative.
    const fit = fitLogistic(synthetic(0.3, [1, -1], 20000, 2), [1, 1]);
    expect(fit.weights[1]).toBe(0);
    expect(fit.weights[0]).toBeGreaterThan(0.5);
  });

  it('is calibrated on its own kind of data: ECE near 0 on fresh draws', () => {
    const fit = fitLogistic(synthetic(0.2, [1, 0.5], 20000, 3), [1, 1]);
    const fresh = synthetic(0.2, [1, 0.5], 20000, 4);
    const predicted = fresh.map((e) => predictLogistic(fit, e.features));
    expect(ece(predicted, fresh.map((e) => e.right))).toBeLessThan(0.02);
  });

  it('is deterministic', () => {
    const data = synthetic(0, [1], 500, 5);
    expect(fitLogistic(data, [1])).toEqual(fitLogistic(data, [1]));
  });
});

describe('auroc', () => {
  it('is 1 for a perfect ranking, 0 for a reversed one, ½ for ties', () => {
    const right = [false, false, true, true];
    expect(auroc([0.1, 0.2, 0.8, 0.9], right)).toBe(1);
    expect(auroc([0.9, 0.8, 0.2, 0.1], right)).toBe(0);
    expect(auroc([0.5, 0.5, 0.5, 0.5], right)).toBe(0.5);
  });

  it('counts the pairs ranked right: 3 of 4', () => {
    expect(auroc([0.1, 0.6, 0.5, 0.9], [false, false, true, true])).toBe(0.75);
  });
});

describe('ece and reliability', () => {
  it('bins by equal width and weighs each bin by its count', () => {
    // 0.15 ×2 (right once) → bin 1, gap |0.15 − 0.5|; 0.95 ×2 (right twice) → bin 9, gap 0.05.
    const p = [0.15, 0.15, 0.95, 0.95];
    const right = [true, false, true, true];
    const table = reliability(p, right);
    expect(table[1]).toMatchObject({ count: 2, accuracy: 0.5 });
    expect(table[9]).toMatchObject({ count: 2, accuracy: 1 });
    expect(table[1].confidence).toBeCloseTo(0.15);
    expect(ece(p, right)).toBeCloseTo(0.5 * 0.35 + 0.5 * 0.05);
  });

  it('puts a confidence of exactly 1 in the last bin', () => {
    expect(reliability([1], [true])[9].count).toBe(1);
  });
});
