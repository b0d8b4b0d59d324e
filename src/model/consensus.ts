/**
 * Geometric consensus of a pair: regularized Hough matching (HPF, Min et al. 2019) on the trunk prior and
 * the fused rows.
 *
 * Per pair, once: every source cell votes for every target cell with clamp(cos, 0)^3 of their normalised
 * `block3_unit22` features times the fused row's probability of that cell to a power (`pairVotes`), each
 * vote falls into the bin of its offset (target − source, in cells of the stride-16 grid), and the
 * histogram is smoothed with a small Gaussian. Matches that agree with the pair's dominant translation
 * then win. For objects facing opposite ways the features of the target's mirror image (encoded, then
 * laid back on the target's cells) vote instead, and their offsets are taken to the mirrored cell (mirror(target) − source): how much of the pair each geometry explains decides
 * whether the target is matched as a mirror image. (Reversing the target's own maps instead costs nothing but
 * decides nothing: the trunk's features tell a left-facing part from a right-facing one.)
 *
 * Per click: the row's probabilities are multiplied by the histogram at (t − q), i.e. its log is added:
 * exactly HPF's confidence (vote × histogram at the vote's offset) for one query.
 */
import * as tf from '@tensorflow/tfjs-core';
import { INPUT_WIDTH, RAW_STRIDE } from './constants';
import { cellFusedRows, gridOf, type FeatureMaps, type FlatMap, type Grid } from './matching';
import type { Point } from './types';

/** The consensus constants (shipped in the model metadata, chosen on the selection split). */
export interface ConsensusConstants {
  /** Gaussian smoothing of the histogram, in bins (one bin = one cell of the prior's grid). */
  sigma: number;
  /** A vote is clamp(cos, 0)^cosineExponent × p^fusedExponent, p the fused row's softmax (see `pairVotes`). */
  cosineExponent: number;
  fusedExponent: number;
  /** Weight of log(histogram) added to a row's log-probabilities (1 = HPF's product). */
  weight: number;
  /** The target is matched mirrored when its mirrored geometry explains this many times what the plain one does. */
  mirrorMargin: number;
}

/** Offsets of one histogram, `bins.height × bins.width`, normalised to a maximum of 1. */
export interface HoughHistogram {
  /** Row-major (dy, dx), dy from −(h−1) to h−1, dx from −(w−1) to w−1. */
  data: Float32Array;
  /** The peak before normalising. */
  peak: number;
  /** How much of the pair this geometry explains (see `explained`): the mirror rule compares these. */
  explained: number;
}

/** A pair's consensus, read back once per pair. */
export interface PairConsensus {
  plain: HoughHistogram;
  mirrored: HoughHistogram;
  /** The grid the votes were cast on (the prior's). */
  grid: Grid;
}

/** Histogram bins of a grid's offsets: every dy in ±(h−1), every dx in ±(w−1). */
export const offsetBins = (grid: Pick<Grid, 'height' | 'width'>) => ({ height: 2 * grid.height - 1, width: 2 * grid.width - 1 });

/** [2n−1, n·n]: row d sums the (s, t) pairs with t − s = d − (n−1), over the flattened (s, t) axis. */
function diagonalSums(n: number): tf.Tensor2D {
  const m = new Float32Array((2 * n - 1) * n * n);
  for (let s = 0; s < n; s++) for (let t = 0; t < n; t++) m[(t - s + n - 1) * n * n + s * n + t] = 1;
  return tf.tensor2d(m, [2 * n - 1, n * n]);
}

/** Normalised 1-D Gaussian taps, radius ⌈2σ⌉. */
export function gaussianTaps(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(2 * sigma));
  const taps = Float32Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)));
  const sum = taps.reduce((a, b) => a + b);
  return taps.map((v) => v / sum);
}

/**
 * Offset histograms of votes [S, T] (source cells × target cells of `grid`, row-major): [2, bins.h, bins.w],
 * that of `plain`, then that of `mirrored` with the target's columns reversed; smoothed, not normalised.
 */
export function houghHistograms(
  plain: tf.Tensor2D,
  mirrored: tf.Tensor2D,
  grid: Pick<Grid, 'height' | 'width'>,
  sigma: number,
): tf.Tensor3D {
  const { height: h, width: w } = grid;
  return tf.tidy(() => {
    const cells = (votes: tf.Tensor2D) => tf.reshape(votes, [h, w, h, w]); // (sy, sx, ty, tx)
    const both = tf.stack([cells(plain), tf.reverse(cells(mirrored), 3)]); // [2, sy, sx, ty, tx]
    const rowsFirst = tf.reshape(tf.transpose(both, [0, 1, 3, 2, 4]), [2, h * h, w * w]); // (sy·ty, sx·tx)
    const dy = tf.matMul(diagonalSums(h), rowsFirst); // [2, 2h−1, w·w], broadcast over the pair
    const hist = tf.matMul(dy, diagonalSums(w), false, true); // [2, 2h−1, 2w−1]
    const taps = gaussianTaps(sigma);
    const k = taps.length;
    const smooth = (x: tf.Tensor4D, kernel: tf.Tensor4D) => tf.conv2d(x, kernel, 1, 'same');
    const x = tf.expandDims(hist, 3) as tf.Tensor4D;
    const smoothed = smooth(smooth(x, tf.tensor4d(taps, [k, 1, 1, 1])), tf.tensor4d(taps, [1, k, 1, 1]));
    return tf.squeeze(smoothed, [3]) as tf.Tensor3D;
  });
}

/** Cosines of the (unit-length) cells of two maps, [S, T]. */
export const cellCosines = (source: FlatMap, target: FlatMap): tf.Tensor2D => tf.matMul(source.cells, target.channels);

/** HPF's votes from cosines [S, T]: clamp(cos, 0)^exponent. */
export const houghVotes = (cosines: tf.Tensor2D, exponent: number): tf.Tensor2D => tf.tidy(() => tf.pow(tf.relu(cosines), exponent));

type VoteExponents = Pick<ConsensusConstants, 'cosineExponent' | 'fusedExponent'>;

/**
 * Every source cell's votes for every target cell, [S, T] on the stride-16 grid, from their cosines: HPF's
 * votes times the fused row's probabilities (softmax over the target's cells) to `fusedExponent`. The fused
 * rows start about 10 points above the raw cosines, so they vote for fewer wrong offsets; the cosines keep
 * the votes graded where the fused rows are too sharp to tell the runners-up apart.
 */
export function pairVotes(
  source: FeatureMaps,
  target: FeatureMaps,
  cosines: tf.Tensor2D,
  { cosineExponent, fusedExponent }: VoteExponents,
): tf.Tensor2D {
  return tf.tidy(() => {
    const votes = houghVotes(cosines, cosineExponent);
    if (fusedExponent === 0) return votes;
    return tf.mul(votes, tf.pow(tf.softmax(cellFusedRows(source, target, cosines)), fusedExponent));
  });
}

/** Bin of every (source, target) cell pair, [S·T] (row-major), target columns reversed when `mirrored`. */
function offsetBinIds(grid: Pick<Grid, 'height' | 'width'>, mirrored: boolean): tf.Tensor1D {
  const { height: h, width: w } = grid;
  const bins = offsetBins(grid);
  const ids = new Int32Array(h * w * h * w);
  for (let s = 0; s < h * w; s++)
    for (let t = 0; t < h * w; t++) {
      const tx = mirrored ? w - 1 - (t % w) : t % w;
      ids[s * h * w + t] = (Math.floor(t / w) - Math.floor(s / w) + h - 1) * bins.width + (tx - (s % w) + w - 1);
    }
  return tf.tensor1d(ids, 'int32');
}

/**
 * How much of the pair one geometry explains: Σ over source cells of the best vote × histogram at its
 * offset (HPF's confidence of each cell's best match), the histogram scaled to a peak of 1.
 */
function explained(votes: tf.Tensor2D, hist: tf.Tensor2D, grid: Pick<Grid, 'height' | 'width'>, mirrored: boolean): tf.Scalar {
  return tf.tidy(() => {
    const flat = tf.reshape(hist, [-1]);
    const atOffsets = tf.reshape(tf.gather(tf.div(flat, tf.max(flat)), offsetBinIds(grid, mirrored)), votes.shape);
    return tf.sum(tf.max(tf.mul(votes, atOffsets), 1));
  });
}

/**
 * The pair's consensus from the maps of the source, the target and the target's mirror image laid back on
 * the target's cells, on the stride-16 grid; one readback. `prior`: the unit-length map on that grid whose
 * cosines vote (the trunk prior; the hyperpixels as an option).
 */
export async function pairConsensus(
  source: FeatureMaps,
  target: FeatureMaps,
  targetMirror: FeatureMaps,
  constants: Pick<ConsensusConstants, 'sigma'> & VoteExponents,
  prior: (maps: FeatureMaps) => FlatMap = (maps) => maps.raw,
): Promise<PairConsensus> {
  const grid = gridOf(RAW_STRIDE);
  const { sigma } = constants;
  const [hist, strengths] = tf.tidy(() => {
    // Without the mirror rule the caller passes the target again: its votes are the plain ones, cast once.
    const targets = targetMirror === target ? [target] : [target, targetMirror];
    const cosines = targets.map((t) => cellCosines(prior(source), prior(t)));
    const [votes, mirrorVotes = votes] = targets.map((t, k) => pairVotes(source, t, cosines[k], constants));
    // The mirror rule reads the geometry of HPF's votes alone: with the fused rows' sharp votes the plain and
    // the mirrored geometry explain a pair more alike (val figures in docs/geometry.md).
    const [hpf, hpfMirror = hpf] = cosines.map((c) => houghVotes(c, constants.cosineExponent));
    const byHpf = tf.unstack(houghHistograms(hpf, hpfMirror, grid, sigma)) as tf.Tensor2D[];
    return [
      houghHistograms(votes, mirrorVotes, grid, sigma),
      tf.stack([hpf, hpfMirror].map((v, k) => explained(v, byHpf[k], grid, k === 1))),
    ];
  });
  const [values, explains] = await Promise.all([hist.data(), strengths.data()]);
  tf.dispose([hist, strengths]);
  const size = values.length / 2;
  const histogram = (k: number): HoughHistogram => {
    const data = values.slice(k * size, (k + 1) * size) as Float32Array;
    const peak = data.reduce((a, b) => Math.max(a, b), 0);
    return { data: peak > 0 ? data.map((v) => v / peak) : data.fill(1), peak, explained: explains[k] };
  };
  return { plain: histogram(0), mirrored: histogram(1), grid };
}

/** The mirror rule: the target fits better mirrored. */
export const fitsMirrored = (c: PairConsensus, { mirrorMargin }: Pick<ConsensusConstants, 'mirrorMargin'>) =>
  c.mirrored.explained > mirrorMargin * c.plain.explained;

/** Linear-interpolation taps at fractional bin `g` of an axis of `size` bins, clamped: [lower, upper, upper's weight]. */
function axisTaps(g: number, size: number): [number, number, number] {
  const c = Math.min(Math.max(g, 0), size - 1);
  const lower = Math.floor(c);
  return [lower, Math.min(lower + 1, size - 1), c - lower];
}

/** Keeps log(0) finite: a cell no vote reached is still a candidate, at a steep cost. */
const SUPPORT_FLOOR = 1e-4;

/**
 * The histogram's support of every cell of a row on `rowGrid` for query `q` (resized input coordinates),
 * in [0, 1], into `out`: the histogram at offset (t − q), t mirrored (x → W − x) when `mirrored`.
 */
export function supportRow(c: PairConsensus, q: Point, rowGrid: Grid, mirrored: boolean, out: Float32Array): Float32Array {
  const bins = offsetBins(c.grid);
  const data = (mirrored ? c.mirrored : c.plain).data;
  const binPixels = c.grid.stride;
  // Source and target cells sit at (k + 0.5)·stride, so bin (h−1, w−1) is offset 0; q is continuous.
  // Bilinear in the histogram is separable: each row's and each column's taps once per query.
  const centre = (k: number) => (k + 0.5) * rowGrid.stride;
  const rows = Array.from({ length: rowGrid.height }, (_, i) => axisTaps((centre(i) - q.y) / binPixels + c.grid.height - 1, bins.height));
  const columns = Array.from({ length: rowGrid.width }, (_, j) =>
    axisTaps(((mirrored ? INPUT_WIDTH - centre(j) : centre(j)) - q.x) / binPixels + c.grid.width - 1, bins.width),
  );
  for (let i = 0; i < rowGrid.height; i++) {
    const [y0, y1, wy] = rows[i];
    for (let j = 0; j < rowGrid.width; j++) {
      const [x0, x1, wx] = columns[j];
      const top = (1 - wx) * data[y0 * bins.width + x0] + wx * data[y0 * bins.width + x1];
      const bottom = (1 - wx) * data[y1 * bins.width + x0] + wx * data[y1 * bins.width + x1];
      out[i * rowGrid.width + j] = (1 - wy) * top + wy * bottom;
    }
  }
  return out;
}

/** Adds weight·log(support)/logitScale to a row in place (the row's logits are row·logitScale). */
export function applySupport(
  row: Float32Array | number[],
  offset: number,
  support: Float32Array,
  weight: number,
  logitScale: number,
): void {
  const k = weight / logitScale;
  for (let c = 0; c < support.length; c++) row[offset + c] += k * Math.log(Math.max(support[c], SUPPORT_FLOOR));
}
