/**
 * Geometric consensus of a pair: regularized Hough matching (HPF, Min et al. 2019) on the trunk prior.
 *
 * Per pair, once: every source cell votes for every target cell with clamp(cos, 0)^3 of their normalised
 * `block3_unit22` features, each vote falls into the bin of its offset (target − source, in cells of the
 * stride-16 grid), and the histogram is smoothed with a small Gaussian. Matches that agree with the
 * pair's dominant translation then win. The same votes, with the target's columns reversed, give the
 * histogram of a mirrored target (offset = mirror(target) − source); the stronger of the two decides
 * whether the target is matched as a mirror image.
 *
 * Per click: the row's probabilities are multiplied by the histogram at (t − q), i.e. its log is added:
 * exactly HPF's confidence (vote × histogram at the vote's offset) for one query.
 */
import * as tf from '@tensorflow/tfjs-core';
import { INPUT_WIDTH } from './constants';
import type { FlatMap, Grid } from './matching';
import type { Point } from './types';

/** The consensus constants (shipped in the model metadata, chosen on the selection split). */
export interface ConsensusConstants {
  /** Gaussian smoothing of the histogram, in bins (one bin = one cell of the prior's grid). */
  sigma: number;
  /** Weight of log(histogram) added to a row's log-probabilities (1 = HPF's product). */
  weight: number;
  /** The target is matched mirrored when its mirrored histogram's peak is this many times the plain one's. */
  mirrorMargin: number;
}

/** Offsets of one histogram, `bins.height × bins.width`, normalised to a maximum of 1. */
export interface HoughHistogram {
  /** Row-major (dy, dx), dy from −(h−1) to h−1, dx from −(w−1) to w−1. */
  data: Float32Array;
  /** The peak before normalising: the strength of this geometry's consensus. */
  peak: number;
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
 * the plain one, then the one with the target's columns reversed; smoothed, not normalised.
 */
export function houghHistograms(votes: tf.Tensor2D, grid: Pick<Grid, 'height' | 'width'>, sigma: number): tf.Tensor3D {
  const { height: h, width: w } = grid;
  return tf.tidy(() => {
    const v = tf.reshape(votes, [h, w, h, w]); // (sy, sx, ty, tx)
    const both = tf.stack([v, tf.reverse(v, 3)]); // [2, sy, sx, ty, tx]
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

/** HPF's votes: clamp(cos, 0)^3 of the (unit-length) cells of two maps, [S, T]. */
export const houghVotes = (source: FlatMap, target: FlatMap): tf.Tensor2D =>
  tf.tidy(() => tf.pow(tf.relu(tf.matMul(source.cells, target.channels)), 3));

/** The pair's consensus from the two normalised prior maps on `grid`; one readback. */
export async function pairConsensus(source: FlatMap, target: FlatMap, grid: Grid, sigma: number): Promise<PairConsensus> {
  const hist = tf.tidy(() => houghHistograms(houghVotes(source, target), grid, sigma));
  const values = await hist.data();
  hist.dispose();
  const size = values.length / 2;
  const histogram = (k: number): HoughHistogram => {
    const data = values.slice(k * size, (k + 1) * size) as Float32Array;
    const peak = data.reduce((a, b) => Math.max(a, b), 0);
    return { data: peak > 0 ? data.map((v) => v / peak) : data.fill(1), peak };
  };
  return { plain: histogram(0), mirrored: histogram(1), grid };
}

/** The mirror rule: the target fits better mirrored. */
export const fitsMirrored = (c: PairConsensus, { mirrorMargin }: Pick<ConsensusConstants, 'mirrorMargin'>) =>
  c.mirrored.peak > mirrorMargin * c.plain.peak;

/** Bilinear value of the histogram at a fractional offset (in bins), clamped to its border. */
function histogramAt(h: HoughHistogram, bins: { height: number; width: number }, dy: number, dx: number): number {
  const gy = Math.min(Math.max(dy, 0), bins.height - 1);
  const gx = Math.min(Math.max(dx, 0), bins.width - 1);
  const y0 = Math.floor(gy);
  const x0 = Math.floor(gx);
  const y1 = Math.min(y0 + 1, bins.height - 1);
  const x1 = Math.min(x0 + 1, bins.width - 1);
  const wy = gy - y0;
  const wx = gx - x0;
  const at = (y: number, x: number) => h.data[y * bins.width + x];
  return (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) + wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
}

/** Keeps log(0) finite: a cell no vote reached is still a candidate, at a steep cost. */
const SUPPORT_FLOOR = 1e-4;

/**
 * The histogram's support of every cell of a row on `rowGrid` for query `q` (resized input coordinates),
 * in [0, 1], into `out`: the histogram at offset (t − q), t mirrored (x → W − x) when `mirrored`.
 */
export function supportRow(c: PairConsensus, q: Point, rowGrid: Grid, mirrored: boolean, out: Float32Array): Float32Array {
  const bins = offsetBins(c.grid);
  const h = mirrored ? c.mirrored : c.plain;
  const binPixels = c.grid.stride;
  // Source and target cells sit at (k + 0.5)·stride, so bin (h−1, w−1) is offset 0; q is continuous.
  const qy = q.y / binPixels - 0.5;
  const qx = q.x / binPixels - 0.5;
  for (let i = 0; i < rowGrid.height; i++) {
    const ty = ((i + 0.5) * rowGrid.stride) / binPixels - 0.5;
    for (let j = 0; j < rowGrid.width; j++) {
      const x = (j + 0.5) * rowGrid.stride;
      const tx = (mirrored ? INPUT_WIDTH - x : x) / binPixels - 0.5;
      out[i * rowGrid.width + j] = histogramAt(h, bins, ty - qy + c.grid.height - 1, tx - qx + c.grid.width - 1);
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
