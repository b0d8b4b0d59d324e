import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import {
  applyPrior,
  applySupport,
  cellCosines,
  explained,
  gaussianTaps,
  houghHistograms,
  localHistograms,
  offsetBins,
  pairConsensus,
  pairVotes,
  priorRow,
  scaledHistograms,
  scaledSupportRow,
  supportRow,
  transportScaling,
  type PairConsensus,
} from './consensus';
import { cellCentres, gridOf, mapTensors, scoredRows, softmaxRow, type FeatureMaps } from './matching';
import { describeOnBackends, expectClose, randomValues } from './testing/backends';
import { encodedPair, fixtureRgb, pairPoints } from './testing/parity-fixtures';
import { TEST_MODEL_DIR } from './testing/paths';
import type { Features } from './features';
import type { MMNet } from './mmnet';
import type { Match, Point } from './types';

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
      return houghHistograms([v, v], { height: h, width: w }, sharp);
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
      return houghHistograms([v, v], { height: h, width: w }, 1);
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
    const targetPrior = new Float32Array(12);
    return { plain: { data, peak: 1, explained: 1, targetPrior }, mirrored: { data, peak: 1, explained: 1, targetPrior }, grid };
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

describe('scaledHistograms (scale hypotheses)', () => {
  const grid = gridOf(16); // 14×20
  const cells = grid.height * grid.width;
  const hough = (votes: Float32Array, scales: number[]): PairConsensus => {
    const scaled = scaledHistograms(votes, grid, scales, 0.5, false);
    const data = smoothed(referenceHistograms(votes, grid.height, grid.width), offsetBins(grid), gaussianTaps(0.5)).subarray(0, 27 * 39);
    const peak = data.reduce((a, b) => Math.max(a, b));
    const histogram = { data: data.map((v) => v / peak), peak, explained: 1, targetPrior: new Float32Array(cells), scaled };
    return { plain: histogram, mirrored: histogram, grid };
  };
  const argmax = (row: Float32Array) => row.indexOf(row.reduce((a, b) => Math.max(a, b)));

  it('with k = 1 alone is the translation histogram', () => {
    const votes = randomValues(cells * cells, 3).map((v) => Math.max(v, 0) ** 3);
    const c = hough(votes, [1]);
    for (const q of [
      { x: 100, y: 60 },
      { x: 168.5, y: 121.25 },
      { x: 24, y: 200 },
    ]) {
      const withScales = supportRow(c, q, grid, false, new Float32Array(cells));
      expectClose(withScales, supportRow(c, q, grid, false, new Float32Array(cells), false), 1e-5);
    }
  });

  it('finds an object seen at twice its size, which translation alone misses', () => {
    // Source cell (i, j) → target cell (2i, 2j): centres t = 2·s − 8 px, a different offset for every cell.
    const votes = new Float32Array(cells * cells);
    for (let i = 1; i < 7; i++) for (let j = 1; j < 10; j++) votes[(i * grid.width + j) * cells + 2 * i * grid.width + 2 * j] = 1;
    // A distractor: a few cells that agree on one translation, (+1, +1) cells.
    for (const [i, j] of [
      [8, 12],
      [9, 12],
      [8, 13],
    ])
      votes[(i * grid.width + j) * cells + (i + 1) * grid.width + j + 1] = 1;
    const c = hough(votes, [1, 1.5, 2]);
    const q = { x: 5.5 * 16, y: 3.5 * 16 }; // cell (3, 5): its match is cell (6, 10)
    expect(argmax(supportRow(c, q, grid, false, new Float32Array(cells)))).toBe(6 * grid.width + 10);
    expect(argmax(supportRow(c, q, grid, false, new Float32Array(cells), false))).toBe(4 * grid.width + 6);
    const support = supportRow(c, q, grid, false, new Float32Array(cells));
    expect(Math.max(...support)).toBeLessThanOrEqual(1);
  });

  it("takes a mirrored target's offsets to the mirrored cell, as the translation histogram does", () => {
    const votes = randomValues(cells * cells, 5).map((v) => Math.max(v, 0) ** 3);
    const size = 27 * 39;
    const data = smoothed(referenceHistograms(votes, grid.height, grid.width), offsetBins(grid), gaussianTaps(0.5)).subarray(size);
    const peak = data.reduce((a, b) => Math.max(a, b));
    const scaled = scaledHistograms(votes, grid, [1], 0.5, true);
    const mirrored = { data: data.map((v) => v / peak), peak, explained: 1, targetPrior: new Float32Array(cells), scaled };
    const c: PairConsensus = { plain: mirrored, mirrored, grid };
    for (const q of [
      { x: 150, y: 90 },
      { x: 60.5, y: 140.25 },
    ]) {
      expectClose(
        supportRow(c, q, grid, true, new Float32Array(cells)),
        supportRow(c, q, grid, true, new Float32Array(cells), false),
        1e-5,
      );
    }
  });
});

/** Brute-force Sinkhorn on logits [S, T] (uniform marginals): rows normalised, then `iterations` column and row updates; log b. */
function referenceScaling(logits: number[][], iterations: number): number[] {
  const [S, T] = [logits.length, logits[0].length];
  let a = logits.map((row) => 1 / row.reduce((sum, l) => sum + Math.exp(l), 0));
  let b = new Array<number>(T).fill(1);
  for (let k = 0; k < iterations; k++) {
    b = Array.from({ length: T }, (_, t) => 1 / logits.reduce((sum, row, s) => sum + a[s] * Math.exp(row[t]), 0));
    a = Array.from({ length: S }, (_, s) => 1 / logits[s].reduce((sum, l, t) => sum + Math.exp(l) * b[t], 0));
  }
  return b.map(Math.log);
}

describe('localHistograms (query-centred)', () => {
  const grid = gridOf(16); // 14×20
  const cells = grid.height * grid.width;
  // Two parts moving apart: source columns 0–11 land 2 cells right, columns 14–19 (the minority) 3 cells left.
  const votes = new Float32Array(cells * cells);
  for (let i = 0; i < grid.height; i++)
    for (let j = 0; j < grid.width; j++) {
      const shift = j < 12 ? 2 : j >= 14 ? -3 : undefined;
      if (shift !== undefined) votes[(i * grid.width + j) * cells + i * grid.width + j + shift] = 1;
    }
  const scaled = scaledHistograms(votes, grid, [1, 1.25], 0.5, false);
  const histogram = { data: new Float32Array(27 * 39), peak: 1, explained: 1, targetPrior: new Float32Array(cells), scaled, votes };
  const c: PairConsensus = { plain: histogram, mirrored: histogram, grid };
  const argmax = (row: Float32Array) => row.indexOf(row.reduce((a, b) => Math.max(a, b)));
  const q = { x: 17.5 * 16, y: 7.5 * 16 }; // cell (7, 17), in the minority part: its match is cell (7, 14)
  const near = { localRadius: 1.5, localHole: 0, localScales: true };

  it('picks the offset of the query’s own part, where the global histogram picks the majority’s', () => {
    expect(argmax(scaledSupportRow(scaled, q, grid, false, new Float32Array(cells)))).toBe(7 * grid.width + 19);
    const local = localHistograms(c, q, false, near, 0.5)!;
    const support = scaledSupportRow(local, q, grid, false, new Float32Array(cells));
    expect(argmax(support)).toBe(7 * grid.width + 14);
    expect(Math.max(...support)).toBeLessThanOrEqual(1);
    // A query in the majority part keeps the majority's offset.
    const left = { x: 4.5 * 16, y: 7.5 * 16 };
    expect(argmax(scaledSupportRow(localHistograms(c, left, false, near, 0.5)!, left, grid, false, new Float32Array(cells)))).toBe(
      7 * grid.width + 6,
    );
  });

  it('recasts each query into the pair’s own buffers, with nothing left from the last query', () => {
    const first = localHistograms(c, q, false, near, 0.5)!.histograms.map((h) => h.data.slice());
    const other = localHistograms(c, { x: 4.5 * 16, y: 7.5 * 16 }, false, near, 0.5)!;
    const again = localHistograms(c, q, false, near, 0.5)!;
    again.histograms.forEach((h, k) => {
      expect(h.data).toBe(other.histograms[k].data);
      expectClose(h.data, first[k], 1e-7);
    });
  });

  it('is the global histogram for a neighbourhood wider than the grid, and translation alone without `localScales`', () => {
    const global = localHistograms(c, q, false, { ...near, localRadius: Infinity }, 0.5)!;
    global.histograms.forEach((h, k) => expectClose(h.data, scaled.histograms[k].data, 1e-6));
    expect(global.total).toBeCloseTo(scaled.total, 5);
    expect(localHistograms(c, q, false, { ...near, localScales: false }, 0.5)!.histograms.map((h) => h.scale)).toEqual([1]);
  });
});

describe('transportScaling (Sinkhorn)', () => {
  // Every source cell likes target 0 best (a background cell, say); sources 1 and 2 also like targets 1, 2.
  const logits = [
    [2, 0, -1],
    [2, 1.5, -1],
    [2, -1, 1.5],
  ];

  it('discounts a target cell that takes more than its share, as the brute-force iterations do', async () => {
    const before = tf.memory().numTensors;
    for (const iterations of [1, 2, 5]) {
      const scaling = tf.tidy(() => transportScaling(tf.tensor2d(logits), iterations));
      const got = Array.from(await scaling.data());
      scaling.dispose();
      expectClose(Float32Array.from(got), Float32Array.from(referenceScaling(logits, iterations)), 1e-4);
      expect(got[0]).toBeLessThan(Math.min(got[1], got[2]));
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('converges to a plan whose rows and columns all carry the same mass', async () => {
    const plan = tf.tidy(() => {
      const l = tf.tensor2d(logits);
      const logB = transportScaling(l, 200);
      return tf.softmax(tf.add(l, logB)); // rows normalised
    });
    const columns = Array.from(await tf.sum(plan, 0).data());
    plan.dispose();
    for (const c of columns) expect(c).toBeCloseTo(1, 3);
    // Without the scaling the first column takes most of the mass.
    const plain = tf.tidy(() => tf.sum(tf.softmax(tf.tensor2d(logits)), 0));
    expect((await plain.data())[0]).toBeGreaterThan(1.8);
    plain.dispose();
  });
});

describe('priorRow', () => {
  const grid = { height: 3, width: 4, stride: 16 };
  const targetPrior = Float32Array.from({ length: 12 }, (_, k) => -k);
  const histogram = { data: new Float32Array(35), peak: 1, explained: 1, targetPrior };
  const c: PairConsensus = { plain: histogram, mirrored: histogram, grid };

  it('is the prior itself on its own grid and bilinear, border-clamped, on a finer one', () => {
    expect(Array.from(priorRow(c, grid, false, new Float32Array(12)))).toEqual(Array.from(targetPrior));
    const fine = priorRow(c, { height: 6, width: 8, stride: 8 }, false, new Float32Array(48));
    expect(fine[0]).toBeCloseTo(0, 6); // centre (4, 4) clamps to cell (0, 0)
    expect(fine[1]).toBeCloseTo(-0.25, 6); // x 12 → 0.25 of the way to cell (0, 1)
    expect(fine[8 + 1]).toBeCloseTo(-0.25 - 0.25 * 4, 6); // and y 12 → 0.25 of the way to row 1
    expect(fine[47]).toBeCloseTo(-11, 6);
  });
});

describe('pairVotes', () => {
  let source: Features;
  let target: Features;
  encodedPair(TEST_MODEL_DIR, (_, a, b) => ([source, target] = [a, b]));
  const noTransport = { transportIterations: 0, transportWeight: 0 };

  it('weighs each clamped cosine by the fused row’s probability of the target cell', async () => {
    const centres = cellCentres(gridOf(16));
    const before = tf.memory().numTensors;
    const [got, expected, cosinesOnly] = tf.tidy(() => {
      const cosines = cellCosines(source.maps.raw, target.maps.raw);
      const fused = tf.softmax(scoredRows(source.maps, target.maps, centres, 3, 'fused'));
      const exponents = { cosineExponent: 3, fusedExponent: 0.5, ...noTransport };
      return [
        pairVotes(source.maps, target.maps, cosines, exponents).votes,
        tf.mul(tf.pow(tf.relu(cosines), 3), tf.sqrt(fused)),
        pairVotes(source.maps, target.maps, cosines, { ...exponents, fusedExponent: 0 }).votes,
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

  it('reads the votes from the transport plan and returns its weighted target scaling', async () => {
    const centres = cellCentres(gridOf(16));
    const before = tf.memory().numTensors;
    const constants = { cosineExponent: 3, fusedExponent: 0.5, transportIterations: 2, transportWeight: 0.75 };
    const [votes, prior, expectedVotes, expectedPrior] = tf.tidy(() => {
      const cosines = cellCosines(source.maps.raw, target.maps.raw);
      const fused = scoredRows(source.maps, target.maps, centres, 3, 'fused');
      const logB = tf.mul(transportScaling(fused, 2), 0.75);
      const { votes, targetPrior } = pairVotes(source.maps, target.maps, cosines, constants);
      return [votes, targetPrior, tf.mul(tf.pow(tf.relu(cosines), 3), tf.sqrt(tf.softmax(tf.add(fused, logB)))), logB];
    });
    const [v, p, ev, ep] = await Promise.all([votes, prior, expectedVotes, expectedPrior].map((t) => t.data() as Promise<Float32Array>));
    tf.dispose([votes, prior, expectedVotes, expectedPrior]);
    expect(tf.memory().numTensors).toBe(before);
    expectClose(v, ev, 1e-5);
    expectClose(p, ep, 1e-4);
    expect(Math.max(...p) - Math.min(...p)).toBeGreaterThan(0.1); // some target cells are discounted
  });

  it('casts the plain geometry alone when the mirror is the target itself (no mirror rule), with the same answer', async () => {
    const constants = {
      sigma: 0.5,
      cosineExponent: 3,
      fusedExponent: 0.5,
      transportIterations: 2,
      transportWeight: 0.75,
      mirrorSigma: 1,
      mirrorBorder: 2,
    };
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
    // The same geometry, to float32 rounding (one histogram through the kernels instead of two side by side).
    const [plain, withMirror] = [same.consensus.plain, separate.consensus.plain];
    expectClose(plain.data, withMirror.data, 1e-6);
    expectClose(plain.targetPrior, withMirror.targetPrior, 1e-5);
    expect(plain.peak).toBeCloseTo(withMirror.peak, 5);
    // Nothing compares the two geometries without the rule: no statistic for it, and no mirrored half.
    expect(withMirror.explained).toBeGreaterThan(0);
    expect(plain.explained).toBe(0);
    expect(same.consensus.mirrored).toBe(same.consensus.plain);
    expect(Math.max(...same.consensus.plain.targetPrior)).toBe(0);
    tf.dispose(mapTensors(copy));
  });
});

describe('explained', () => {
  beforeAll(() => selectBackend({ backend: 'wasm' }));

  it('counts only the source cells off the border, whose positions the padding does not give away', async () => {
    // 4×6 cells. Border cells vote for themselves (the plain geometry at offset 0, as padding-made features
    // do); interior cells for their mirror cell (the mirrored geometry at offset 0).
    const grid = { height: 4, width: 6 };
    const cells = 24;
    const interior = (c: number) => c >= 6 && c < 18 && c % 6 > 0 && c % 6 < 5;
    const votes = new Float32Array(cells * cells);
    for (let c = 0; c < cells; c++) votes[c * cells + (interior(c) ? c - (c % 6) + 5 - (c % 6) : c)] = 1;
    const before = tf.memory().numTensors;
    const strengths = tf.tidy(() => {
      const v = tf.tensor2d(votes, [cells, cells]);
      const [plain, mirrored] = tf.unstack(houghHistograms([v, v], grid, 0.5)) as tf.Tensor2D[];
      return tf.stack([0, 1].flatMap((border) => [explained(v, plain, grid, false, border), explained(v, mirrored, grid, true, border)]));
    });
    const [plainAll, mirroredAll, plainInside, mirroredInside] = await strengths.data();
    strengths.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(plainAll).toBeGreaterThan(mirroredAll); // 16 border cells outvote 8 interior ones
    expect(mirroredInside).toBeCloseTo(8, 4); // each interior cell's vote at the mirrored peak
    expect(plainInside).toBeLessThan(0.5 * mirroredInside);
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

  it('decides from the source cells inside the metadata’s border, recomputing a pair when it changes', async () => {
    const constants = model.metadata.matching;
    const shipped = constants.mirrorBorder;
    expect(shipped).toBeGreaterThan(0);
    try {
      constants.mirrorBorder = 7; // no cell of the 14-row grid is 7 rows from both edges: nothing explained either way
      expect((await model.match(source, mirrorImage, pairPoints, rule)).some((m) => m.mirrored)).toBe(false);
    } finally {
      constants.mirrorBorder = shipped;
    }
    expect((await model.match(source, mirrorImage, pairPoints, rule)).every((m) => m.mirrored)).toBe(true);
  });

  it('leaves a pair facing the same way as it is', async () => {
    const matches = await model.match(source, other, pairPoints, rule);
    expect(matches.some((m) => m.mirrored)).toBe(false);
    for (const m of matches) expect(m.support).toSatisfy((v: number) => v >= 0 && v <= 1);
  });
});

describe('a match with the consensus', () => {
  let model: MMNet;
  let source: Features;
  let target: Features;
  encodedPair(TEST_MODEL_DIR, (m, a, b) => ([model, source, target] = [m, a, b]));
  /** The fused s2 row of `q` before the consensus, and the pair's consensus. */
  const fusedS2Row = async (q: Point) => {
    const grid = gridOf(8);
    const rows = scoredRows(source.maps, target.maps, [q], 2, 'fused');
    const row = (await rows.data()) as Float32Array;
    rows.dispose();
    const c = await pairConsensus(source.maps, target.maps, target.maps, model.metadata.matching);
    return { row, c, grid, cells: grid.height * grid.width };
  };

  it('shows the row it predicted from: the fused row plus weight · log histogram plus the transport prior', async () => {
    const constants = model.metadata.matching;
    expect(constants.transportIterations * constants.transportWeight).toBeGreaterThan(0);
    const q = pairPoints[0];
    const options = { scale: 2, mode: 'fused', heatmap: true, consensus: true, mirror: false, local: false } as const;
    const [m] = await model.match(source, target, [q], options);
    const { row, c, grid, cells } = await fusedS2Row(q);
    applySupport(row, 0, supportRow(c, q, grid, false, new Float32Array(cells)), constants.weight, 1);
    const withoutPrior = softmaxRow(row, cells);
    applyPrior(row, 0, priorRow(c, grid, false, new Float32Array(cells)), 1);
    expectClose(m.heatmap!.data, softmaxRow(row, cells), 1e-5);
    expect(Math.max(...m.heatmap!.data.map((v, k) => Math.abs(v - withoutPrior[k])))).toBeGreaterThan(1e-3);
  });

  it('with `local` (on by default since round 6), adds localWeight · log of the query-centred support to the row it shows', async () => {
    const constants = model.metadata.matching;
    expect(constants.local).toBe(true);
    const q = pairPoints[2];
    const { row, c, grid, cells } = await fusedS2Row(q);
    applySupport(row, 0, supportRow(c, q, grid, false, new Float32Array(cells)), constants.weight, 1);
    applyPrior(row, 0, priorRow(c, grid, false, new Float32Array(cells)), 1);
    const withoutLocal = softmaxRow(row, cells);
    applySupport(
      row,
      0,
      scaledSupportRow(localHistograms(c, q, false, constants, constants.sigma)!, q, grid, false, new Float32Array(cells)),
      constants.localWeight,
      1,
    );
    const options = { scale: 2, mode: 'fused', heatmap: true, consensus: true, mirror: false } as const;
    const before = tf.memory().numTensors;
    const [m] = await model.match(source, target, [q], options);
    expect(tf.memory().numTensors).toBe(before);
    expectClose(m.heatmap!.data, softmaxRow(row, cells), 1e-5);
    expect(Math.max(...m.heatmap!.data.map((v, k) => Math.abs(v - withoutLocal[k])))).toBeGreaterThan(1e-3);
    expectClose((await model.match(source, target, [q], { ...options, local: false }))[0].heatmap!.data, withoutLocal, 1e-5);
  });

  it('weighs by the scale hypotheses unless told not to (`scaleHypotheses: false`: translation alone)', async () => {
    const constants = model.metadata.matching;
    expect(constants.houghScales!.length).toBeGreaterThan(1);
    const q = pairPoints[1];
    const grid = gridOf(16);
    const cells = grid.height * grid.width;
    const c = await pairConsensus(source.maps, target.maps, target.maps, constants);
    const rows = scoredRows(source.maps, target.maps, [q], 3, 'fused');
    const fused = (await rows.data()) as Float32Array;
    rows.dispose();
    const heat = async (scaleHypotheses: boolean) => {
      const [m] = await model.match(source, target, [q], {
        scale: 3,
        mode: 'fused',
        heatmap: true,
        consensus: true,
        mirror: false,
        local: false,
        scaleHypotheses,
      });
      const row = fused.slice();
      applySupport(row, 0, supportRow(c, q, grid, false, new Float32Array(cells), scaleHypotheses), constants.weight, 1);
      applyPrior(row, 0, priorRow(c, grid, false, new Float32Array(cells)), 1);
      expectClose(m.heatmap!.data, softmaxRow(row, cells), 1e-5);
      return m.heatmap!.data;
    };
    const [scaled, translation] = [await heat(true), await heat(false)];
    expect(Math.max(...scaled.map((v, k) => Math.abs(v - translation[k])))).toBeGreaterThan(1e-3);
  });
});
