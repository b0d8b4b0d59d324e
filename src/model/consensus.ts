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
 *
 * Optimal transport (SCOT, Liu et al. 2020): a few Sinkhorn iterations on the pair's fused rows (source
 * cells × target cells) give every target cell a scaling b_t that evens out how much of the source lands
 * on it, so a background cell that every source cell likes is discounted. The votes are read from the
 * transport plan (the fused rows plus log b, row-normalised), and every row gets `transportWeight · log b`
 * too: the plan's row for the click.
 *
 * Scale hypotheses (`houghScales`): the same votes also fall on offsets t − k·s for a few object scales k, one
 * histogram each, and a row is weighed by their sum: a target seen larger or smaller gathers its votes again.
 */
import * as tf from '@tensorflow/tfjs-core';
import { INPUT_HEIGHT, INPUT_WIDTH, RAW_STRIDE } from './constants';
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
  /** Sinkhorn iterations (column, then row updates) on the fused rows; 0: no transport. */
  transportIterations: number;
  /** Weight of the target cells' log Sinkhorn scaling, in the votes' plan and in every row (1 = the plan's row). */
  transportWeight: number;
  /** The target is matched mirrored when its mirrored geometry explains this many times what the plain one does. */
  mirrorMargin: number;
  /** Gaussian smoothing, in bins, of the histograms the mirror rule reads (HPF's votes alone, see `explained`). */
  mirrorSigma: number;
  /** Source cells within this many cells of the image's border do not count in the mirror rule (see `explained`). */
  mirrorBorder: number;
  /**
   * Scale hypotheses k of the histogram (`scaledHistograms`): a vote falls on the offset t − k·s, and a row is
   * weighed by the sum over k; absent: translation alone (k = 1), on the backend.
   */
  houghScales?: number[];
}

/**
 * The query-centred histogram (`localHistograms`, match option `local`): the votes of source cell s weigh
 * exp(−|s − q|² / 2·localRadius²), and a row gets `localWeight` · log of its support beside `weight` · log of the
 * global one.
 */
export interface LocalConstants {
  /** Query-centred Hough histogram by default (`MatchOptions.local`). */
  local: boolean;
  /** ρ of the source cells' Gaussian weight, in cells of the consensus grid. */
  localRadius: number;
  /**
   * Source cells within this distance of the query (in cells; 0: none) cast no local votes: their fused rows share
   * the query's features, hence its mistakes, so their votes would confirm the query's own row rather than check it
   * (docs/geometry.md, "Round 6").
   */
  localHole: number;
  /** Weight of log(local support) in a row, in logit units, added to the global term's. */
  localWeight: number;
  /** The local histogram has the scale hypotheses too (else translation alone). */
  localScales: boolean;
}

/** Offsets of one histogram, `bins.height × bins.width`, normalised to a maximum of 1. */
export interface HoughHistogram {
  /** Row-major (dy, dx), dy from −(h−1) to h−1, dx from −(w−1) to w−1. */
  data: Float32Array;
  /** The peak before normalising. */
  peak: number;
  /**
   * How much of the pair this geometry explains (see `explained`): the mirror rule compares these. 0 when the
   * pair was cast without the target's mirror image, where the rule has nothing to compare.
   */
  explained: number;
  /**
   * `transportWeight · log b` of every target cell of the prior's grid (row-major, maximum 0; zeros without
   * transport), in logit units: what the transport adds to a row at that cell.
   */
  targetPrior: Float32Array;
  /** The histograms of `ConsensusConstants.houghScales` (when shipped): what `supportRow` reads unless told not to. */
  scaled?: ScaledHistograms;
  /** The votes [S, T] they were cast from, row-major (with `scaled`): `localHistograms` recasts them per query. */
  votes?: Float32Array;
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
 * Offset histograms of votes [S, T] (source cells × target cells of `grid`, row-major), [n, bins.h, bins.w]: the
 * plain votes', then (when given) the mirrored votes' with the target's columns reversed; smoothed, not normalised.
 */
export function houghHistograms(votes: readonly tf.Tensor2D[], grid: Pick<Grid, 'height' | 'width'>, sigma: number): tf.Tensor3D {
  const { height: h, width: w } = grid;
  return tf.tidy(() => {
    const cells = (v: tf.Tensor2D) => tf.reshape(v, [h, w, h, w]); // (sy, sx, ty, tx)
    const all = tf.stack(votes.map((v, k) => (k === 1 ? tf.reverse(cells(v), 3) : cells(v)))); // [n, sy, sx, ty, tx]
    const rowsFirst = tf.reshape(tf.transpose(all, [0, 1, 3, 2, 4]), [votes.length, h * h, w * w]); // (sy·ty, sx·tx)
    const dy = tf.matMul(diagonalSums(h), rowsFirst); // [n, 2h−1, w·w], broadcast over the histograms
    const hist = tf.matMul(dy, diagonalSums(w), false, true); // [n, 2h−1, 2w−1]
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
const houghVotes = (cosines: tf.Tensor2D, exponent: number): tf.Tensor2D => tf.tidy(() => tf.pow(tf.relu(cosines), exponent));

type VoteConstants = Pick<ConsensusConstants, 'cosineExponent' | 'fusedExponent' | 'transportIterations' | 'transportWeight'>;

/**
 * Log of the target cells' Sinkhorn scaling b, [T], for a plan ∝ exp(logits [S, T]) with uniform marginals:
 * rows normalised, then `iterations` column and row updates (the last row update, which leaves b as it is,
 * skipped). A target cell that takes more than its share of the source's mass gets a lower b.
 */
export function transportScaling(logits: tf.Tensor2D, iterations: number): tf.Tensor1D {
  return tf.tidy(() => {
    let logA = tf.neg(tf.logSumExp(logits, 1, true)); // [S, 1]
    let logB: tf.Tensor = tf.zeros([1, logits.shape[1]]);
    for (let k = 0; k < iterations; k++) {
      logB = tf.neg(tf.logSumExp(tf.add(logits, logA), 0, true));
      if (k + 1 < iterations) logA = tf.neg(tf.logSumExp(tf.add(logits, logB), 1, true));
    }
    return tf.reshape(logB, [-1]);
  });
}

/**
 * Every source cell's votes for every target cell, [S, T] on the stride-16 grid, from their cosines: HPF's
 * votes times the transport plan's row of the source cell to `fusedExponent`, the plan being the softmax
 * over the target's cells of the fused rows plus `transportWeight · log b` (`transportScaling`). The fused
 * rows start about 10 points above the raw cosines, so they vote for fewer wrong offsets; the cosines keep
 * the votes graded where the fused rows are too sharp to tell the runners-up apart. `targetPrior`:
 * `transportWeight · log b`, [T].
 */
export function pairVotes(
  source: FeatureMaps,
  target: FeatureMaps,
  cosines: tf.Tensor2D,
  { cosineExponent, fusedExponent, transportIterations, transportWeight }: VoteConstants,
): { votes: tf.Tensor2D; targetPrior: tf.Tensor1D } {
  return tf.tidy(() => {
    const votes = houghVotes(cosines, cosineExponent);
    const cells = cosines.shape[1];
    if (fusedExponent === 0 && transportIterations === 0) return { votes, targetPrior: tf.zeros([cells]) };
    const fusedRows = cellFusedRows(source, target, cosines);
    const targetPrior =
      transportIterations > 0 && transportWeight !== 0
        ? (tf.mul(transportScaling(fusedRows, transportIterations), transportWeight) as tf.Tensor1D)
        : (tf.zeros([cells]) as tf.Tensor1D);
    if (fusedExponent === 0) return { votes, targetPrior };
    const plan = tf.softmax(tf.add(fusedRows, targetPrior));
    return { votes: tf.mul(votes, tf.pow(plan, fusedExponent)), targetPrior };
  });
}

/** `offsetBinIds`' tables by grid and orientation: the same for every pair. */
const offsetBinTables = new Map<string, Int32Array>();

/** Bin of every (source, target) cell pair, [S·T] (row-major), target columns reversed when `mirrored`. */
function offsetBinIds(grid: Pick<Grid, 'height' | 'width'>, mirrored: boolean): tf.Tensor1D {
  const { height: h, width: w } = grid;
  const key = `${h}x${w}${mirrored ? 'm' : ''}`;
  let ids = offsetBinTables.get(key);
  if (!ids) {
    const bins = offsetBins(grid);
    ids = new Int32Array(h * w * h * w);
    for (let s = 0; s < h * w; s++)
      for (let t = 0; t < h * w; t++) {
        const tx = mirrored ? w - 1 - (t % w) : t % w;
        ids[s * h * w + t] = (Math.floor(t / w) - Math.floor(s / w) + h - 1) * bins.width + (tx - (s % w) + w - 1);
      }
    offsetBinTables.set(key, ids);
  }
  return tf.tensor1d(ids, 'int32');
}

/** 1 for every cell of the grid at least `border` cells from its edges, else 0, [h·w] (row-major). */
function interiorCells(grid: Pick<Grid, 'height' | 'width'>, border: number): tf.Tensor1D {
  const { height: h, width: w } = grid;
  const inside = (k: number, size: number) => k >= border && k < size - border;
  return tf.tensor1d(Array.from({ length: h * w }, (_, c) => (inside(Math.floor(c / w), h) && inside(c % w, w) ? 1 : 0)));
}

/**
 * How much of the pair one geometry explains: Σ over the source's cells at least `border` cells from the
 * image's edges of the best vote × histogram at its offset (HPF's confidence of each cell's best match), the
 * histogram scaled to a peak of 1. The zero padding gives the border cells features of their position,
 * which match the same border of any image whichever way the object faces, so they vote for the plain
 * geometry on every pair (with every target mirrored, source and target x of the mutual nearest neighbours
 * still correlate positively); without them the statistic tells the two geometries apart on more pairs
 * (docs/geometry.md, "Mirror rule, round 4").
 */
export function explained(
  votes: tf.Tensor2D,
  hist: tf.Tensor2D,
  grid: Pick<Grid, 'height' | 'width'>,
  mirrored: boolean,
  border: number,
): tf.Scalar {
  return tf.tidy(() => {
    const flat = tf.reshape(hist, [-1]);
    const atOffsets = tf.reshape(tf.gather(tf.div(flat, tf.max(flat)), offsetBinIds(grid, mirrored)), votes.shape);
    return tf.sum(tf.mul(tf.max(tf.mul(votes, atOffsets), 1), interiorCells(grid, border)));
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
  constants: Pick<ConsensusConstants, 'sigma' | 'mirrorSigma' | 'mirrorBorder' | 'houghScales'> & VoteConstants,
  prior: (maps: FeatureMaps) => FlatMap = (maps) => maps.raw,
): Promise<PairConsensus> {
  const grid = gridOf(RAW_STRIDE);
  const { sigma, mirrorSigma, mirrorBorder } = constants;
  // Without the mirror rule the caller passes the target again: the plain geometry alone is cast, and the
  // mirror rule's statistic, which nothing reads then, is left out (half of the pair's kernels).
  const withMirror = targetMirror !== target;
  const { geometry, strengths, votes } = tf.tidy(() => {
    const targets = withMirror ? [target, targetMirror] : [target];
    const cosines = targets.map((t) => cellCosines(prior(source), prior(t)));
    const cast = targets.map((t, k) => pairVotes(source, t, cosines[k], constants));
    const castVotes = cast.map((c) => c.votes);
    const geometry = [houghHistograms(castVotes, grid, sigma), tf.stack(cast.map((c) => tf.sub(c.targetPrior, tf.max(c.targetPrior))))];
    // The scale hypotheses' votes fall between bins: they are cast in JavaScript, from the votes read back.
    const votes = constants.houghScales ? castVotes : [];
    if (!withMirror) return { geometry, strengths: [], votes };
    // The mirror rule reads the geometry of HPF's votes alone, in histograms smoothed more than the matches':
    // with the fused rows' sharp votes, or at σ 0.5, the plain and the mirrored geometry explain a pair more
    // alike (val figures in docs/geometry.md).
    const hpf = cosines.map((c) => houghVotes(c, constants.cosineExponent));
    const byHpf = tf.unstack(houghHistograms(hpf, grid, mirrorSigma)) as tf.Tensor2D[];
    return { geometry, strengths: [tf.stack(hpf.map((v, k) => explained(v, byHpf[k], grid, k === 1, mirrorBorder)))], votes };
  });
  const tensors = [...geometry, ...strengths, ...votes];
  const read = (await Promise.all(tensors.map((t) => t.data()))) as Float32Array[];
  tf.dispose(tensors);
  const [values, priorValues] = read;
  const [explains] = read.slice(2, 2 + strengths.length);
  const voteValues = read.slice(2 + strengths.length);
  const scales = constants.houghScales;
  const scaled = scales && voteValues.map((v, k) => scaledHistograms(v, grid, scales, sigma, k === 1));
  const size = values.length / (withMirror ? 2 : 1);
  const cells = grid.height * grid.width;
  const histogram = (k: number): HoughHistogram => {
    const data = values.slice(k * size, (k + 1) * size);
    const peak = data.reduce((a, b) => Math.max(a, b), 0);
    return {
      data: peak > 0 ? data.map((v) => v / peak) : data.fill(1),
      peak,
      explained: explains?.[k] ?? 0,
      targetPrior: priorValues.slice(k * cells, (k + 1) * cells),
      scaled: scaled?.[k],
      votes: voteValues[k],
    };
  };
  const plain = histogram(0);
  return { plain, mirrored: withMirror ? histogram(1) : plain, grid };
}

/** The mirror rule: the target fits better mirrored. */
export const fitsMirrored = (c: PairConsensus, { mirrorMargin }: Pick<ConsensusConstants, 'mirrorMargin'>) =>
  c.mirrored.explained > mirrorMargin * c.plain.explained;

/** [lower bin, upper bin, upper's weight]. */
type AxisTaps = [number, number, number];

/** Linear-interpolation taps at fractional bin `g` of an axis of `size` bins, clamped. */
function axisTaps(g: number, size: number): AxisTaps {
  const c = Math.min(Math.max(g, 0), size - 1);
  const lower = Math.floor(c);
  return [lower, Math.min(lower + 1, size - 1), c - lower];
}

/** A row-major table `width` wide sampled at every (row taps, column taps) pair, row-major into `out`. */
function sampleSeparable(
  table: Float32Array,
  width: number,
  rows: readonly AxisTaps[],
  columns: readonly AxisTaps[],
  out: Float32Array,
  scale = 1,
  accumulate = false,
): Float32Array {
  for (let i = 0; i < rows.length; i++) {
    const [y0, y1, wy] = rows[i];
    for (let j = 0; j < columns.length; j++) {
      const [x0, x1, wx] = columns[j];
      const top = (1 - wx) * table[y0 * width + x0] + wx * table[y0 * width + x1];
      const bottom = (1 - wx) * table[y1 * width + x0] + wx * table[y1 * width + x1];
      const value = scale * ((1 - wy) * top + wy * bottom);
      out[i * columns.length + j] = accumulate ? out[i * columns.length + j] + value : value;
    }
  }
  return out;
}

/** Offset histograms of several scale hypotheses (`ConsensusConstants.houghScales`), each on its own bins. */
export interface ScaledHistograms {
  histograms: ScaledHistogram[];
  /** Σ of their peaks: the summed support is at most 1. */
  total: number;
  /** Input pixels per bin (the consensus grid's stride). */
  stride: number;
}

/**
 * Offsets d = t − k·s of one scale k, in input pixels, in bins of the consensus grid's stride (k = 1: the
 * translation histogram's bins); bin (originY, originX) is offset 0, with room for every offset and a bin more.
 */
interface ScaledHistogram {
  scale: number;
  height: number;
  width: number;
  originY: number;
  originX: number;
  data: Float32Array;
}

/**
 * The votes [S, T] (source × target cells of `grid`, row-major) cast into one histogram per scale hypothesis k:
 * vote (s, t) falls on d = t − k·s, t mirrored (x → W − x) when `mirrored`, split bilinearly between the four
 * bins around it; each is smoothed like the translation histogram. Objects seen at another size spread their
 * votes over many translation bins: at the right k they gather in one. Summed over k, nearby hypotheses support
 * each other. In JavaScript: k·s falls between bins, which the backend's diagonal sums cannot express.
 */
export function scaledHistograms(
  votes: Float32Array,
  grid: Grid,
  scales: readonly number[],
  sigma: number,
  mirrored: boolean,
  cellWeights?: Float32Array,
  scratch?: HistogramScratch,
): ScaledHistograms {
  const cells = grid.height * grid.width;
  const taps = gaussianTaps(sigma);
  // Cell centres sit at (k + 0.5) bins, so a source cell's votes all share one fractional bin offset: its row of
  // votes is laid down as a whole, shifted, with four bilinear weights.
  const split = (bin: number) => [Math.floor(bin), bin - Math.floor(bin)];
  const histograms = scales.map((scale): ScaledHistogram => {
    const originY = Math.ceil((scale * INPUT_HEIGHT) / grid.stride) + 2;
    const originX = Math.ceil((scale * INPUT_WIDTH) / grid.stride) + 2;
    const height = originY + grid.height + 3;
    const width = originX + grid.width + 3;
    const buffers = scratch?.get(scale) ?? { data: new Float32Array(height * width), pass: new Float32Array(height * width) };
    scratch?.set(scale, buffers);
    const data = buffers.data.fill(0);
    for (let s = 0; s < cells; s++) {
      const weight = cellWeights ? cellWeights[s] : 1;
      if (weight === 0) continue;
      const [y, wy] = split(0.5 - scale * (Math.floor(s / grid.width) + 0.5) + originY);
      const [x, wx] = split(0.5 - scale * ((s % grid.width) + 0.5) + originX);
      castRows(votes, s * cells, grid, mirrored, data, y * width + x, width, wy, wx, weight);
    }
    return { scale, height, width, originY, originX, data: smoothInPlace(data, height, width, taps, buffers.pass) };
  });
  return withTotal(histograms, grid.stride);
}

/**
 * Source cell s's votes (`votes` from `from`, a grid of rows) laid on `data` (`width` bins a row) from bin `at`,
 * split bilinearly (`wy`, `wx`) between the four bins around each, times `weight`. Mirrored (x → W − x), bin
 * column j holds target column w − 1 − j. A function of its own, called once per source cell: V8 optimizes it
 * after a few calls, where the same loop inlined ran interpreted for most of a pair's first histograms.
 */
function castRows(
  votes: Float32Array,
  from: number,
  grid: Pick<Grid, 'height' | 'width'>,
  mirrored: boolean,
  data: Float32Array,
  at: number,
  width: number,
  wy: number,
  wx: number,
  weight: number,
) {
  const w00 = (1 - wy) * (1 - wx) * weight;
  const w01 = (1 - wy) * wx * weight;
  const w10 = wy * (1 - wx) * weight;
  const w11 = wy * wx * weight;
  for (let i = 0; i < grid.height; i++) {
    const row = from + i * grid.width;
    const bin = at + i * width;
    for (let j = 0; j < grid.width; j++) {
      const vote = votes[row + (mirrored ? grid.width - 1 - j : j)];
      const b = bin + j;
      data[b] += vote * w00;
      data[b + 1] += vote * w01;
      data[b + width] += vote * w10;
      data[b + width + 1] += vote * w11;
    }
  }
}

/** Histograms with Σ of their peaks. */
const withTotal = (histograms: ScaledHistogram[], stride: number): ScaledHistograms => ({
  histograms,
  total: histograms.reduce((sum, h) => sum + h.data.reduce((a, b) => Math.max(a, b), 0), 0),
  stride,
});

/** Source cells whose Gaussian weight falls below this cast no votes into a query's neighbourhood histogram. */
const LOCAL_WEIGHT_FLOOR = 1e-3;

/** Each scale's histogram and smoothing buffers, kept between calls (`scaledHistograms`' `scratch`). */
type HistogramScratch = Map<number, { data: Float32Array; pass: Float32Array }>;

/** Per pair's votes: a query's histograms are recast on every click and hover, into the same buffers. */
const localScratch = new WeakMap<Float32Array, { weights: Float32Array; histograms: HistogramScratch }>();

/**
 * A query's own histograms (`LocalConstants`): the pair's votes recast with source cell s weighed by
 * exp(−|s − q|² / 2ρ²) (ρ = `localRadius` cells, cells below `LOCAL_WEIGHT_FLOOR` skipped). So a click is
 * regularized by the geometry of its own part of the object, which a viewpoint change or an articulated part moves
 * away from the pair's dominant one (the row weighs the global histogram too, by `weight`). Undefined when the
 * pair has no votes read back. The histograms are the pair's scratch: read them before the pair's next query.
 */
export function localHistograms(
  c: PairConsensus,
  q: Point,
  mirrored: boolean,
  { localRadius, localHole, localScales }: Pick<LocalConstants, 'localRadius' | 'localHole' | 'localScales'>,
  sigma: number,
): ScaledHistograms | undefined {
  const { scaled, votes } = mirrored ? c.mirrored : c.plain;
  if (!scaled || !votes) return undefined;
  const { grid } = c;
  const scratch = localScratch.get(votes) ?? { weights: new Float32Array(grid.height * grid.width), histograms: new Map() };
  localScratch.set(votes, scratch);
  const qy = q.y / grid.stride - 0.5;
  const qx = q.x / grid.stride - 0.5;
  for (let s = 0; s < scratch.weights.length; s++) {
    const d2 = (Math.floor(s / grid.width) - qy) ** 2 + ((s % grid.width) - qx) ** 2;
    const g = Math.exp(-d2 / (2 * localRadius * localRadius));
    scratch.weights[s] = g < LOCAL_WEIGHT_FLOOR || (localHole > 0 && d2 <= localHole * localHole) ? 0 : g;
  }
  const scales = localScales ? scaled.histograms.map((h) => h.scale) : [1];
  return scaledHistograms(votes, grid, scales, sigma, mirrored, scratch.weights, scratch.histograms);
}

/**
 * A row-major table smoothed by separable taps, zeros beyond its border (the backend's 'same' convolution), in
 * place: `pass` (as large) holds the first pass.
 */
function smoothInPlace(table: Float32Array, height: number, width: number, taps: Float32Array, pass: Float32Array): Float32Array {
  const radius = (taps.length - 1) / 2;
  const run = (from: Float32Array, to: Float32Array, step: number, size: number, coordinate: (k: number) => number) => {
    for (let k = 0; k < from.length; k++) {
      const c = coordinate(k);
      let sum = 0;
      for (let o = -radius; o <= radius; o++) if (c + o >= 0 && c + o < size) sum += taps[o + radius] * from[k + o * step];
      to[k] = sum;
    }
  };
  run(table, pass, width, height, (k) => Math.floor(k / width));
  run(pass, table, 1, width, (k) => k % width);
  return table;
}

/** `supportRow` from the scale hypotheses: Σ_k H_k(t − k·q) / Σ_k max H_k, in [0, 1]. */
export function scaledSupportRow(
  { histograms, total, stride }: ScaledHistograms,
  q: Point,
  rowGrid: Grid,
  mirrored: boolean,
  out: Float32Array,
): Float32Array {
  const centre = (k: number) => (k + 0.5) * rowGrid.stride;
  histograms.forEach((h, n) => {
    const rows = Array.from({ length: rowGrid.height }, (_, i) => axisTaps((centre(i) - h.scale * q.y) / stride + h.originY, h.height));
    const columns = Array.from({ length: rowGrid.width }, (_, j) =>
      axisTaps(((mirrored ? INPUT_WIDTH - centre(j) : centre(j)) - h.scale * q.x) / stride + h.originX, h.width),
    );
    sampleSeparable(h.data, h.width, rows, columns, out, total > 0 ? 1 / total : 0, n > 0);
  });
  return out;
}

/** Keeps log(0) finite: a cell no vote reached is still a candidate, at a steep cost. */
const SUPPORT_FLOOR = 1e-4;

/**
 * The histogram's support of every cell of a row on `rowGrid` for query `q` (resized input coordinates),
 * in [0, 1], into `out`: the histogram at offset (t − q), t mirrored (x → W − x) when `mirrored`; with the
 * scale hypotheses (`withScales` and the pair has them), their sum at (t − k·q) (`scaledSupportRow`).
 */
export function supportRow(
  c: PairConsensus,
  q: Point,
  rowGrid: Grid,
  mirrored: boolean,
  out: Float32Array,
  withScales = true,
): Float32Array {
  const scaled = (mirrored ? c.mirrored : c.plain).scaled;
  if (withScales && scaled) return scaledSupportRow(scaled, q, rowGrid, mirrored, out);
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
  return sampleSeparable(data, bins.width, rows, columns, out);
}

/**
 * The transport's target prior (`HoughHistogram.targetPrior`, on the consensus grid) at every cell centre of a
 * row on `rowGrid`, bilinear with border clamping, into `out`. Mirrored or not, the rows' target cells are the
 * target's own (a mirror image's maps are laid back), so the prior is read as it is.
 */
export function priorRow(c: PairConsensus, rowGrid: Grid, mirrored: boolean, out: Float32Array): Float32Array {
  const prior = (mirrored ? c.mirrored : c.plain).targetPrior;
  const { grid } = c;
  const taps = (k: number, size: number) => axisTaps(((k + 0.5) * rowGrid.stride) / grid.stride - 0.5, size);
  const rows = Array.from({ length: rowGrid.height }, (_, i) => taps(i, grid.height));
  const columns = Array.from({ length: rowGrid.width }, (_, j) => taps(j, grid.width));
  return sampleSeparable(prior, grid.width, rows, columns, out);
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

/** Adds a target prior (logit units, `priorRow`) to a row in place (the row's logits are row·logitScale). */
export function applyPrior(row: Float32Array | number[], offset: number, prior: Float32Array, logitScale: number): void {
  for (let c = 0; c < prior.length; c++) row[offset + c] += prior[c] / logitScale;
}
