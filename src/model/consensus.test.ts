import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import {
  cellCosines,
  gaussianTaps,
  houghHistograms,
  offsetBins,
  pairConsensus,
  pairVotes,
  supportRow,
  type PairConsensus,
} from './consensus';
import { cellCentres, gridOf, mapTensors, scoredRows, type FeatureMaps } from './matching';
import { describeOnBackends, expectClose, randomValues } from './testing/backends';
import { encodedPair, fixtureRgb, pairPoints } from './testing/parity-fixtures';
import { TEST_MODEL_DIR } from './testing/paths';
import type { Features, MMNet } from './mmnet';
import type { Match } from './types';

/** Brute-force offset histograms of votes [S, T] on an h×w grid: plain, then with target columns reversed. */
function referenceHistograms(votes: Float32Array, h: number, w: number): Float32Array {
  const bins = offsetBins({ height: h, width: w });
  const out = new Float32Array(2 * bins.height * bins.width);
  for (let s = 0; s < h * w; s++) {
    for (let t = 0; t < h * w; t++) {
      const [sy, sx, ty, tx] = [Math.floor(s / w), s % w, Math.floor(t / w), t % w];
      const bin = (x: number) => (ty - sy + h - 1) * bins.width + (x - sx + w - 1);
      out[bin(tx)] += votes[s * h * w + t];
      out[bins.height * bins.width + bin(w - 1 - tx)] += votes[s * h * w + t];
    }
  }
  return out;
}

/** A separable smoothing of each histogram by the same taps, zero outside. */
function smoothed(hist: Float32Array, bins: { height: number; width: number }, taps: Float32Array): Float32Array {
  const r = (taps.length - 1) / 2;
  const out = new Float32Array(hist.length);
  const size = bins.height * bins.width;
  for (let k = 0; k < hist.length / size; k++)
    for (let y = 0; y < bins.height; y++)
      for (let x = 0; x < bins.width; x++)
        for (let dy = -r; dy <= r; dy++)
          for (let dx = -r; dx <= r; dx++) {
            const [yy, xx] = [y + dy, x + dx];
            if (yy < 0 || yy >= bins.height || xx < 0 || xx >= bins.width) continue;
            out[k * size + y * bins.width + x] += taps[dy + r] * taps[dx + r] * hist[k * size + yy * bins.width + xx];
          }
  return out;
}

describe('the Hough histogram', () => {
  beforeAll(() => selectBackend({ backend: 'wasm' }));

  it('puts hand-built votes in the bins of their offsets, plain and mirrored', async () => {
    const [h, w] = [2, 3];
    const votes = new Float32Array(36);
    votes[0 * 6 + 5] = 1; // source (0,0) → target (1,2): offset (1, 2); mirrored target column 0: (1, 0)
    votes[1 * 6 + 4] = 0.5; // source (0,1) → target (1,1): offset (1, 0); mirrored column 1: (1, 0)
    votes[3 * 6 + 0] = 0.25; // source (1,0) → target (0,0): offset (−1, 0); mirrored column 2: (−1, 2)
    const sharp = 0.05; // taps [0, 1, 0] in float32
    const hist = tf.tidy(() => {
      const v = tf.tensor2d(votes, [6, 6]);
      return houghHistograms(v, v, { height: h, width: w }, sharp);
    });
    expect(hist.shape).toEqual([2, 3, 5]);
    const got = Array.from(await hist.data());
    hist.dispose();
    const bin = (dy: number, dx: number) => (dy + 1) * 5 + dx + 2;
    const plain = new Array(15).fill(0);
    plain[bin(1, 2)] = 1;
    plain[bin(1, 0)] = 0.5;
    plain[bin(-1, 0)] = 0.25;
    const mirrored = new Array(15).fill(0);
    mirrored[bin(1, 0)] = 1.5;
    mirrored[bin(-1, 2)] = 0.25;
    expect(got.map((v) => Math.round(v * 1e4) / 1e4)).toEqual([...plain, ...mirrored]);
  });

  it('has Gaussian taps that sum to 1 and peak in the middle', () => {
    const taps = gaussianTaps(1);
    expect(taps.length).toBe(5);
    expect(taps.reduce((a, b) => a + b)).toBeCloseTo(1, 6);
    expect(taps[2]).toBeGreaterThan(taps[1]);
    expect(taps[1]).toBeCloseTo(taps[3], 7);
  });
});

describeOnBackends('houghHistograms', () => {
  it('matches the brute-force histogram on random votes (14×20, σ = 1)', async () => {
    const [h, w] = [14, 20];
    const votes = randomValues(280 * 280, 7).map((v) => Math.max(v, 0) ** 3);
    const hist = tf.tidy(() => {
      const v = tf.tensor2d(votes, [280, 280]);
      return houghHistograms(v, v, { height: h, width: w }, 1);
    });
    const got = (await hist.data()) as Float32Array;
    hist.dispose();
    expectClose(got, smoothed(referenceHistograms(votes, h, w), offsetBins({ height: h, width: w }), gaussianTaps(1)), 1e-4);
  });
});

describe('supportRow', () => {
  /** A histogram on a 3×4 grid (stride 16) whose only non-zero bin is offset (dy, dx) = (1, −2). */
  const consensus = (): PairConsensus => {
    const grid = { height: 3, width: 4, stride: 16 };
    const bins = offsetBins(grid);
    const data = new Float32Array(bins.height * bins.width);
    data[(1 + 2) * bins.width + (-2 + 3)] = 1;
    return { plain: { data, peak: 1, explained: 1 }, mirrored: { data, peak: 1, explained: 1 }, grid };
  };

  it('is the histogram at the offset from the query to each cell', () => {
    const c = consensus();
    const q = { x: (2 + 0.5) * 16, y: (0 + 0.5) * 16 }; // cell (0, 2)
    const row = supportRow(c, q, c.grid, false, new Float32Array(12));
    expect(Array.from(row).findIndex((v) => v === 1)).toBe(1 * 4 + 0); // (0 + 1, 2 − 2)
    expect(row.reduce((a, b) => a + b)).toBeCloseTo(1, 6);
  });

  it('reads mirrored cells at x → W − x when the target is mirrored', () => {
    const c = consensus();
    const q = { x: (2 + 0.5) * 16, y: (0 + 0.5) * 16 };
    const row = supportRow(c, q, { height: 14, width: 20, stride: 16 }, true, new Float32Array(280));
    // mirror(t) = q + (1, −2) cells → t's column is 20 − 1 − 0 = 19 on the full-width grid
    expect(Array.from(row).findIndex((v) => v === 1)).toBe(1 * 20 + 19);
  });
});

describe('pairVotes', () => {
  let source: Features;
  let target: Features;
  encodedPair(TEST_MODEL_DIR, (_, a, b) => ([source, target] = [a, b]));

  it('weighs each clamped cosine by the fused row’s probability of the target cell', async () => {
    const centres = cellCentres(gridOf(16));
    const before = tf.memory().numTensors;
    const [got, expected, cosinesOnly] = tf.tidy(() => {
      const cosines = cellCosines(source.maps.raw, target.maps.raw);
      const fused = tf.softmax(scoredRows(source.maps, target.maps, centres, 3, 'fused'));
      const exponents = { cosineExponent: 3, fusedExponent: 0.5 };
      return [
        pairVotes(source.maps, target.maps, cosines, exponents),
        tf.mul(tf.pow(tf.relu(cosines), 3), tf.sqrt(fused)),
        pairVotes(source.maps, target.maps, cosines, { ...exponents, fusedExponent: 0 }),
      ];
    });
    const [g, e, c] = await Promise.all([got.data(), expected.data(), cosinesOnly.data()]);
    tf.dispose([got, expected, cosinesOnly]);
    expect(tf.memory().numTensors).toBe(before);
    expect(got.shape).toEqual([280, 280]);
    expectClose(g as Float32Array, e as Float32Array, 1e-5);
    // The fused rows are sharp: most cells the cosines vote for get far less.
    const voted = Array.from(c.keys()).filter((k) => c[k] > 0);
    expect(voted.filter((k) => g[k] < 0.5 * c[k]).length).toBeGreaterThan(0.9 * voted.length);
  });
  it('casts the votes once when the mirror is the target itself (no mirror rule), with the same answer', async () => {
    const constants = { sigma: 0.5, cosineExponent: 3, fusedExponent: 0.5 };
    const copy: FeatureMaps = {
      head: target.maps.head.map((m) => ({ cells: tf.clone(m.cells), channels: tf.clone(m.channels) })),
      raw: { cells: tf.clone(target.maps.raw.cells), channels: tf.clone(target.maps.raw.channels) },
    };
    const matMuls = async (mirror: FeatureMaps) => {
      let consensus: PairConsensus | undefined;
      const { kernels } = await tf.profile(async () => void (consensus = await pairConsensus(source.maps, target.maps, mirror, constants)));
      return { count: kernels.filter((k) => k.name === 'BatchMatMul').length, consensus: consensus! };
    };
    const [same, separate] = [await matMuls(target.maps), await matMuls(copy)];
    expect(same.count).toBeLessThan(separate.count);
    expect(same.consensus).toEqual(separate.consensus);
    tf.dispose(mapTensors(copy));
  });
});

describe('the mirror rule', () => {
  let model: MMNet;
  let source: Features;
  let other: Features;
  let mirrorImage: Features;
  encodedPair(TEST_MODEL_DIR, (m, a, b) => ([model, source, other] = [m, a, b]));
  beforeAll(async () => {
    const mirroredPixels = tf.tidy(() => tf.reverse(fixtureRgb('willow_a'), 1) as tf.Tensor3D);
    mirrorImage = await model.encode(mirroredPixels);
    mirroredPixels.dispose();
  });
  afterAll(() => mirrorImage.dispose());
  const rule = { consensus: true, mirror: true } as const;
  /** Mean distance of the matches on the mirror image from the mirrored queries. */
  const meanError = (matches: Match[]) =>
    matches.reduce((sum, m) => sum + Math.hypot(m.target.x - (320 - m.source.x), m.target.y - m.source.y), 0) / matches.length;

  it('matches an image against its own mirror image as mirrored, each point on its mirror point', async () => {
    const matches = await model.match(source, mirrorImage, pairPoints, rule);
    expect(matches.every((m) => m.mirrored)).toBe(true);
    expect(meanError(matches)).toBeLessThan(8);
    const without = await model.match(source, mirrorImage, pairPoints, { ...rule, mirror: false });
    expect(without.some((m) => m.mirrored)).toBe(false);
    expect(meanError(without)).toBeGreaterThan(2 * meanError(matches));
  });

  it('leaves a pair facing the same way as it is', async () => {
    const matches = await model.match(source, other, pairPoints, rule);
    expect(matches.some((m) => m.mirrored)).toBe(false);
    for (const m of matches) expect(m.support).toSatisfy((v: number) => v >= 0 && v <= 1);
  });
});
