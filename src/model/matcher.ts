import * as tf from '@tensorflow/tfjs-core';
import {
  applyPrior,
  applySupport,
  fitsMirrored,
  localHistograms,
  pairConsensus,
  priorRow,
  scaledSupportRow,
  supportRow,
  type PairConsensus,
} from './consensus';
import { readConsensus, serializeConsensus } from './consensus-file';
import { DEFAULT_SCALE, FUSED_SCALES, RAW_STRIDE, SCALE_INDICES, type ScaleIndex } from './constants';
import {
  calibrationKey,
  companionScale,
  confidenceOf,
  NEIGHBOUR_OFFSETS,
  neighboursOf,
  neighbourSpread,
  readsSignal,
  rowEntropy,
  secondModeMargin,
  type CalibratorConstants,
  type MatchSignals,
  type SignalName,
} from './confidence';
import { encodeMaps, encodeMapsInSteps, runInSteps, type EncodeOptions } from './encoder';
import type { HyperpixelConstants } from './hyperpixels';
import { MMNetError } from './errors';
import { toInput, toOriginal } from './image';
import {
  bilinearTaps,
  cellProbability,
  gridOf,
  heatLogitScale,
  mapTensors,
  peakPoint,
  rawRows,
  refinedPeak,
  hasOneGrid,
  rowGrid,
  scoredRowsOf,
  type Grid,
  type Peak,
  softmaxRow,
  type FeatureMaps,
  type FlatMap,
} from './matching';
import type { Match, MatchMode, MatchOptions, Point } from './types';
import { transferCentres, transferredPoint, type Landing, type TransferConstants } from './transfer';
import type { ModelMetadata, WeightMap } from './weights';
import { Features } from './features';

/** One `match` of a batch: points of `source` (original source-image coordinates) found in `target`. */
export interface MatchQuery {
  source: Features;
  target: Features;
  points: readonly Point[];
}

interface CachedConsensus {
  /** The constants it was computed with. */
  key: string;
  withMirror: boolean;
  /** It holds the votes (computed here, not read from a file): a query-centred histogram recasts them. */
  withVotes: boolean;
  pair: Promise<PairConsensus>;
}

/**
 * Matching on encoded features: it needs the model's metadata (the matching defaults, consensus and
 * calibration constants) but no weights, except to encode the mirror images that `flip` and the mirror rule
 * use. So features read from a file answer before the weights have arrived; `MMNet` matches through one.
 */
export class Matcher {
  /** Each pair's consensus, computed on its first match and kept while both features live. */
  private readonly consensusOf = new WeakMap<Features, WeakMap<Features, CachedConsensus>>();

  constructor(
    readonly metadata: ModelMetadata,
    private readonly weights?: WeightMap,
  ) {}

  /**
   * Many `match`es in one go (one source's points on many targets, or back): two readbacks (the rows, then
   * the backward check's), and the work after the correlations runs once over all of them. Answers in the
   * order of the queries.
   */
  async matchMany(queries: readonly MatchQuery[], options: MatchOptions = {}): Promise<Match[][]> {
    const constants = this.metadata.matching;
    const {
      scale = DEFAULT_SCALE,
      mode = 'fused',
      flip = false,
      heatmap = false,
      allSignals = false,
      consensus = constants.consensus,
      mirror = constants.mirror,
      scaleHypotheses = true,
      local = constants.local,
      transfer = constants.transfer,
    } = options;
    checkMatchOptions(scale, mode);
    for (const { source, target, points } of queries) {
      source.assertAlive();
      target.assertAlive();
      for (const p of points) {
        if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new MMNetError('bad-argument', `not a point: (${p.x}, ${p.y})`);
      }
    }
    const asked = queries.filter((q) => q.points.length > 0);
    if (asked.length === 0) return queries.map(() => []);

    const useFlip = flip && !hasOneGrid(mode);
    if (useFlip) for (const q of asked) this.ensureFlipped(q.source, q.target);
    const settings = { mode, flip: useFlip, consensus, mirror, scaleHypotheses };

    const calibrator = this.metadata.confidence?.models[calibrationKey({ mode, scale, flip: useFlip, consensus })];
    const grid = rowGrid(mode, scale);
    // The signals that cost extra rows, computed only when the calibrator reads them.
    const wants = (name: SignalName) => allSignals || readsSignal(calibrator, name);
    const companion = wants('scaleDistance') ? companionScale(mode, scale) : undefined;
    const plans = wants('spread') ? asked.map((q) => neighbourPlan(q, !local)) : undefined;
    const transfers = transfer ? asked.map((q) => transferPlan(q, grid, constants)) : undefined;
    // The neighbours' and the transfer's rows are stacked after the queries' own (one readback for all), each row once.
    const extras = plans ? asked.flatMap((q, k) => (plans[k].extra.length > 0 ? [{ ...q, points: plans[k].extra }] : [])) : [];
    const transferExtras = transfers ? asked.map((q, k) => ({ ...q, points: transfers[k].extra })) : [];
    const forward = [...asked, ...extras, ...transferExtras];
    const [{ values, plain, supports, mirrored, agreements, raw }, companionRows] = await Promise.all([
      this.readRows(forward, { ...settings, scale, withRaw: wants('rawCosine'), local: local ? new Set(asked) : undefined }),
      companion && this.readRows(asked, { ...settings, scale: companion }),
    ]);
    const companionValues = companionRows && companionRows.values;
    const forwardPeaks = peaksOf(values, forward, grid);
    const peaks = forwardPeaks.slice(0, asked.length);
    const targets = transfers
      ? transferredTargets(values, forward, forwardPeaks, transfers, { grid, mode, exponent: constants.transferExponent })
      : asked.map((q, k) => peaks[k].map((peak) => targetPoint(peak, grid, q.target)));
    // The forward–backward check: every prediction matched back onto its source.
    const backward = asked.map((q, k) => ({ source: q.target, target: q.source, points: targets[k] }));
    const { values: backValues } = await this.readRows(backward, { ...settings, scale });
    const backs = peaksOf(backValues, backward, grid).map((row, k) => row.map((peak) => targetPoint(peak, grid, asked[k].source)));
    const companionGrid = companion && rowGrid(mode, companion);
    const companions =
      companionValues &&
      companionGrid &&
      peaksOf(companionValues, asked, companionGrid).map((row, k) => row.map((peak) => targetPoint(peak, companionGrid, asked[k].target)));
    const extraPeaks = forwardPeaks.slice(asked.length, asked.length + extras.length);
    const neighbours = plans?.map((plan, k) => {
      const landed = [...peaks[k], ...(plan.extra.length > 0 ? extraPeaks.shift()! : [])].map((peak) => peakPoint(peak, grid.stride));
      return plan.index.map((i) => landed[i]);
    });

    const answers = new Map<MatchQuery, Match[]>();
    let first = 0;
    asked.forEach((q, k) => {
      const checks = {
        peaks: peaks[k],
        targets: targets[k],
        backs: backs[k],
        companions: companions?.[k],
        plain,
        supports,
        mirrored: mirrored[k],
        agreement: agreements[k],
        raw,
        neighbours: neighbours?.[k],
      };
      answers.set(q, readMatches(values, q, grid, first, { mode, heatmap, calibrator }, checks));
      first += q.points.length;
    });
    return queries.map((q) => answers.get(q) ?? []);
  }

  /**
   * The scored rows of the queries, stacked in order and read back (one readback), each weighed by its pair's
   * consensus when asked, histogram and transport prior (in place, so the peak, probability and heat map are
   * those of the row used);
   * `supports`: each row's consensus support, stacked the same way; `mirrored`: per query, the mirror rule chose
   * the mirrored target; `raw`, with `withRaw`: the trunk's cosine rows of the same points and targets.
   */
  private async readRows(
    queries: readonly MatchQuery[],
    {
      scale,
      mode,
      flip,
      consensus,
      mirror,
      scaleHypotheses,
      local,
      withRaw = false,
    }: {
      scale: ScaleIndex;
      mode: MatchMode;
      flip: boolean;
      consensus: boolean;
      mirror: boolean;
      scaleHypotheses: boolean;
      /**
       * The queries whose rows the query-centred histogram also weighs: the asked points' own; the rows the
       * confidence's signals read (neighbours, backward, companion scale) keep the pair's histogram alone, whose
       * rows the calibrator was fit on, and a click stays within a frame (one recast of the votes per point).
       */
      local?: ReadonlySet<MatchQuery>;
      withRaw?: boolean;
    },
  ): Promise<{
    values: Float32Array;
    plain: Float32Array;
    supports: Float32Array;
    mirrored: boolean[];
    agreements: number[];
    raw?: Float32Array;
  }> {
    const constants = this.metadata.matching;
    const useMirror = consensus && mirror;
    if (useMirror) for (const q of queries) this.ensureFlipped(q.target);
    const pairs = await Promise.all(
      queries.map(({ source, target }) => this.pairConsensus(source, target, useMirror, local !== undefined)),
    );
    const hyperTau = constants.hyperpixels?.tau;
    const mirrored = pairs.map((pair) => useMirror && fitsMirrored(pair, constants));
    // A target matched mirrored is scored on its mirror image's maps (its flip average on its own).
    const rowQueries = (flipped: boolean) =>
      queries.map(({ source, target, points }, k) => ({
        source: flipped ? source.flipped! : source.maps,
        target: flipped !== mirrored[k] ? target.flipped! : target.maps,
        points: points.map((p) => toInput(p, source.size)),
      }));
    const rows = [
      scoredRowsOf(rowQueries(false), scale, mode, flip ? rowQueries(true) : undefined, hyperTau),
      ...(withRaw ? [rawRows(rowQueries(false))] : []),
    ];
    let values: Float32Array;
    let raw: Float32Array | undefined;
    try {
      [values, raw] = (await Promise.all(rows.map((r) => r.data()))) as Float32Array[];
    } finally {
      tf.dispose(rows);
    }
    const grid = rowGrid(mode, scale);
    const cells = grid.height * grid.width;
    const supports = new Float32Array(values.length);
    // The rows before the consensus weighs them: how sharp a row is on its own is a confidence signal that
    // the heavily weighted rows no longer show.
    const plain = consensus ? values.slice() : values;
    // The transport's target prior is the same for every point of a pair.
    const prior = new Float32Array(cells);
    const localSupport = new Float32Array(cells);
    let offset = 0;
    for (const [k, query] of queries.entries()) {
      const { source, points } = query;
      if (consensus) priorRow(pairs[k], grid, mirrored[k], prior);
      for (const p of points) {
        const support = supports.subarray(offset, offset + cells);
        supportRow(pairs[k], toInput(p, source.size), grid, mirrored[k], support, scaleHypotheses);
        if (consensus) {
          applySupport(values, offset, support, constants.weight, heatLogitScale(mode));
          applyPrior(values, offset, prior, heatLogitScale(mode));
          const near = local?.has(query) && localHistograms(pairs[k], toInput(p, source.size), mirrored[k], constants, constants.sigma);
          if (near) {
            scaledSupportRow(near, toInput(p, source.size), grid, mirrored[k], localSupport);
            applySupport(values, offset, localSupport, constants.localWeight, heatLogitScale(mode));
          }
        }
        offset += cells;
      }
    }
    const agreements = pairs.map((pair, k) => (mirrored[k] ? pair.mirrored : pair.plain).peak / (pair.grid.height * pair.grid.width));
    return { values, plain, supports, mirrored, agreements, raw };
  }

  /**
   * The pair's one-off work, both ways, ahead of its first match: its geometric consensus (when the metadata
   * has it on), votes included. An app that calls it once both images are encoded answers the first click as
   * fast as the next. The mirror rule's half waits for the mirrors (`MMNet.encodeMirror`).
   */
  async prepare(source: Features, target: Features): Promise<void> {
    source.assertAlive();
    target.assertAlive();
    if (!this.metadata.matching.consensus) return;
    await Promise.all([this.pairConsensus(source, target, false, true), this.pairConsensus(target, source, false, true)]);
  }

  /**
   * The pair's consensus as a file (src/model/consensus-file.ts), for a site that ships the pair's features
   * (an example): a matcher given it (`adoptConsensus`) skips the pair's one-off work. Plain geometry only;
   * `withVotes`: with the votes the query-centred histogram (`local`) recasts, needed in the direction clicks
   * match, not their backward check's.
   */
  async consensusFile(source: Features, target: Features, withVotes = false): Promise<Uint8Array> {
    const consensus = await this.pairConsensus(source, target, false, withVotes);
    return serializeConsensus(consensus, this.consensusKey(source, target), withVotes);
  }

  /**
   * Takes the pair's consensus from `consensusFile` instead of computing it on its first match; false (and
   * nothing kept) when it was computed with other constants than this matcher's.
   */
  adoptConsensus(source: Features, target: Features, file: ArrayBuffer | Uint8Array): boolean {
    const { key, consensus } = readConsensus(file);
    if (key !== this.consensusKey(source, target)) return false;
    const withVotes = consensus.plain.votes !== undefined;
    this.consensusCache(source).set(target, { key, withMirror: false, withVotes, pair: Promise.resolve(consensus) });
    return true;
  }

  /**
   * The pair's consensus, cached; its mirrored histogram comes from the target's mirror image only when
   * the mirror rule needs it (an encode), else from the target's own maps (and goes unused). `withVotes`: the
   * query-centred histogram will recast the votes, which an adopted consensus does not hold.
   */
  private pairConsensus(source: Features, target: Features, withMirror: boolean, withVotes: boolean): Promise<PairConsensus> {
    const bySource = this.consensusCache(source);
    let cached = bySource.get(target);
    const key = this.consensusKey(source, target);
    if (!cached || cached.key !== key || (withMirror && !cached.withMirror) || (withVotes && !cached.withVotes)) {
      const constants = this.metadata.matching;
      const mirror = withMirror ? target.flipped! : target.maps;
      const prior = votePrior(constants.hyperpixels, source, target);
      cached = { key, withMirror, withVotes: true, pair: pairConsensus(source.maps, target.maps, mirror, constants, prior) };
      bySource.set(target, cached);
    }
    return cached.pair;
  }

  private consensusCache(source: Features): WeakMap<Features, CachedConsensus> {
    const bySource = this.consensusOf.get(source) ?? new WeakMap<Features, CachedConsensus>();
    this.consensusOf.set(source, bySource);
    return bySource;
  }

  /** The constants a pair's consensus depends on (they only change when a selection run edits the metadata). */
  private consensusKey(source: Features, target: Features): string {
    const constants = this.metadata.matching;
    return JSON.stringify([
      constants.sigma,
      constants.cosineExponent,
      constants.fusedExponent,
      constants.transportIterations,
      constants.transportWeight,
      constants.mirrorSigma,
      constants.mirrorBorder,
      constants.houghScales,
      votePrior(constants.hyperpixels, source, target) === hyperVotes,
    ]);
  }

  /** The mirror images' maps that `flip` and the mirror rule need: an encode each, so the weights must be here. */
  /** @internal */ ensureFlipped(...features: Features[]): void {
    for (const f of features) {
      if (f.flipped) continue;
      const { weights, options } = this.mirrorEncode(f);
      f.flipped = encodeMaps(weights, f.input, options);
    }
  }

  /**
   * `ensureFlipped` for one image a trunk unit at a time, awaiting `between()` after each (`MMNet.encodeMirror`).
   * A throw from `between` abandons the encode and frees its tensors; an encode that finds the mirror made
   * meanwhile (`flip` asked for it) drops its own maps, and one whose features were disposed meanwhile throws.
   */
  /** @internal */ async flipInSteps(f: Features, between: () => Promise<void>): Promise<void> {
    if (f.flipped) return;
    const { weights, options } = this.mirrorEncode(f);
    const maps = await runInSteps(encodeMapsInSteps(weights, f.input, options), between);
    if (f.flipped || f.isDisposed) tf.dispose(mapTensors(maps));
    else f.flipped = maps;
    f.assertAlive();
  }

  private mirrorEncode(f: Features): { weights: WeightMap; options: EncodeOptions } {
    if (!this.weights) throw new MMNetError('model-load', 'matching mirrored images needs the model, which is still loading');
    return { weights: this.weights, options: { mirrored: true, hyperTaps: f.maps.hyper && this.metadata.matching.hyperpixels?.taps } };
  }
}

const hyperVotes = (maps: FeatureMaps): FlatMap => maps.hyper!;

/** Where a pair's votes come from: the hyperpixels when the metadata says so and both images have them, else the trunk prior. */
const votePrior = (constants: HyperpixelConstants | undefined, source: Features, target: Features) =>
  constants?.votes && source.maps.hyper && target.maps.hyper ? hyperVotes : undefined;

/** The refined peak of every row, per query, from rows stacked in the queries' order. */
function peaksOf(values: ArrayLike<number>, queries: readonly MatchQuery[], grid: Grid): Peak[][] {
  const cells = grid.height * grid.width;
  let first = 0;
  return queries.map(({ points }) => {
    const peaks = points.map((_, n) => refinedPeak(values, grid, (first + n) * cells));
    first += points.length;
    return peaks;
  });
}

/** A peak as a point of the original target image. */
const targetPoint = (peak: Peak, grid: Grid, target: Features): Point => toOriginal(peakPoint(peak, grid.stride), target.size);

const longerSide = (f: Features) => Math.max(f.width, f.height);

/**
 * What each point of a query found, beside its rows: forward peaks and targets, backward and companion
 * predictions, the consensus supports (stacked like the rows) and whether the target was matched mirrored.
 */
interface Checks {
  peaks: Peak[];
  targets: Point[];
  backs: Point[];
  companions?: Point[];
  /** The rows before the consensus weighed them (the same array without consensus). */
  plain: Float32Array;
  supports: Float32Array;
  mirrored: boolean;
  /** The pair's `MatchSignals.agreement`. */
  agreement: number;
  /** The trunk's cosine rows on the prior's grid, stacked like the rows (when computed). */
  raw?: Float32Array;
  /** Where each point's `NEIGHBOUR_OFFSETS` neighbours land, four per point in order (input coordinates; when computed). */
  neighbours?: Point[];
}

/** The matches of one query from the stacked rows, its first row at `first`. */
function readMatches(
  values: ArrayLike<number>,
  { source, target, points }: MatchQuery,
  grid: Grid,
  first: number,
  { mode, heatmap, calibrator }: { mode: MatchMode; heatmap: boolean; calibrator?: CalibratorConstants },
  { peaks, targets, backs, companions, plain, supports, mirrored, agreement, raw, neighbours }: Checks,
): Match[] {
  const cells = grid.height * grid.width;
  const logitScale = heatLogitScale(mode);
  const rawGrid = gridOf(RAW_STRIDE);
  const rawCells = rawGrid.height * rawGrid.width;
  return points.map((p, n) => {
    const offset = (first + n) * cells;
    const peak = peaks[n];
    const cell = peak.i * grid.width + peak.j;
    const backError = distance(backs[n], p);
    const predicted = toInput(targets[n], target.size);
    const query = toInput(p, source.size);
    const around = NEIGHBOUR_OFFSETS.length;
    const signals: MatchSignals = {
      probability: cellProbability(plain, cells, offset, cell, logitScale),
      margin: secondModeMargin(plain, grid, offset, cell, logitScale),
      entropy: rowEntropy(plain, cells, offset, logitScale),
      backDistance: backError / longerSide(source),
      scaleDistance: companions ? distance(companions[n], targets[n]) / longerSide(target) : NaN,
      support: supports[offset + cell],
      agreement,
      weightedEntropy: rowEntropy(values, cells, offset, logitScale),
      rawCosine: raw ? trunkCosine(raw, (first + n) * rawCells, predicted, rawGrid) : NaN,
      spread: neighbours
        ? neighbourSpread(query, predicted, neighboursOf(query), neighbours.slice(n * around, (n + 1) * around)) / longerSide(target)
        : NaN,
    };
    return {
      source: { x: p.x, y: p.y },
      target: targets[n],
      cell: [peak.i, peak.j],
      score: peak.value,
      probability: cellProbability(values, cells, offset, cell, logitScale),
      confidence: confidenceOf(signals, calibrator),
      backError,
      mirrored,
      support: signals.support,
      signals,
      ...(heatmap && {
        heatmap: { data: softmaxRow(values, cells, offset, logitScale), width: grid.width, height: grid.height, stride: grid.stride },
      }),
    };
  });
}

const distance = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);

/** A query's `NEIGHBOUR_OFFSETS` neighbours, in original source coordinates like the query. */
const neighbourPoints = (p: Point, source: Features): Point[] =>
  neighboursOf(toInput(p, source.size)).map((q) => toOriginal(q, source.size));

/**
 * Points to match once each: `wanted[n]`, the points the n-th asks about (original source coordinates), as
 * indices into [...own, ...extra], `extra` holding those not already in `own` or met before. Keys at 0.001 px:
 * a point that is another up to rounding is that point.
 */
function matchedOnce(own: readonly Point[], wanted: readonly Point[][]): { extra: Point[]; index: number[][] } {
  const key = (p: Point) => `${Math.round(p.x * 1e3)},${Math.round(p.y * 1e3)}`;
  const at = new Map(own.map((p, n) => [key(p), n]));
  const extra: Point[] = [];
  const index = wanted.map((points) =>
    points.map((q) => {
      const k = key(q);
      if (!at.has(k)) at.set(k, own.length + extra.push(q) - 1);
      return at.get(k)!;
    }),
  );
  return { extra, index };
}

/**
 * The points a query's neighbours add (`extra`: those it does not ask for itself; a grid's neighbours are mostly
 * its own points) and, for each of its points' `NEIGHBOUR_OFFSETS` neighbours in order, its index in
 * [the query's points, …extra]. Without `shareAsked` every neighbour is matched as an extra: an asked point's
 * row carries the query-centred histogram (`local`), which a neighbour's row, read by the confidence, does not.
 * @internal
 */
export function neighbourPlan({ points, source }: MatchQuery, shareAsked = true): { extra: Point[]; index: number[] } {
  const { extra, index } = matchedOnce(
    shareAsked ? points : [],
    points.map((p) => neighbourPoints(p, source)),
  );
  const offset = shareAsked ? 0 : points.length;
  return { extra, index: index.flat().map((i) => i + offset) };
}

/**
 * The source cells a query's points transfer from (`transferCentres`), each matched once for all its points:
 * `extra`, the cells' centres (original source coordinates), and per point the indices of its cells in `extra`.
 */
const transferPlan = ({ points, source }: MatchQuery, grid: Grid, { transferRadius }: TransferConstants) =>
  matchedOnce(
    [],
    points.map((p) => transferCentres(toInput(p, source.size), grid, transferRadius).map((c) => toOriginal(c, source.size))),
  );

/**
 * Each asked point's prediction by keypoint transfer (original target coordinates), from the rows stacked in
 * `forward`'s order: the asked queries first, their transfer cells (`plans`, one query each) last.
 */
function transferredTargets(
  values: Float32Array,
  forward: readonly MatchQuery[],
  peaks: readonly Peak[][],
  plans: ReturnType<typeof transferPlan>[],
  { grid, mode, exponent }: { grid: Grid; mode: MatchMode; exponent: number },
): Point[][] {
  const cells = grid.height * grid.width;
  let rows = 0;
  const firstRows = forward.map((q) => (rows += q.points.length) - q.points.length);
  const landing = (query: number, n: number, from: Point): Landing => {
    const peak = peaks[query][n];
    const probability = cellProbability(values, cells, (firstRows[query] + n) * cells, peak.i * grid.width + peak.j, heatLogitScale(mode));
    return { from, to: peakPoint(peak, grid.stride), probability };
  };
  const cellsQuery = forward.length - plans.length;
  return plans.map(({ extra, index }, k) => {
    const { source, target, points } = forward[k];
    // A cell shared by several points (a grid) lands once.
    const fromCells = extra.map((c, m) => landing(cellsQuery + k, m, toInput(c, source.size)));
    return points.map((p, n) => {
      const q = toInput(p, source.size);
      const landings = [landing(k, n, q), ...index[n].map((m) => fromCells[m])];
      return toOriginal(transferredPoint(q, landings, exponent), target.size);
    });
  });
}

/** A trunk cosine row's value at a point (bilinear, input coordinates), the row at `offset`. */
function trunkCosine(raw: Float32Array, offset: number, at: Point, grid: Grid): number {
  const { index, weight } = bilinearTaps(at, grid);
  return index.reduce((sum, cell, k) => sum + weight[k] * raw[offset + cell], 0);
}

function checkMatchOptions(scale: ScaleIndex, mode: MatchMode): void {
  if (!SCALE_INDICES.includes(scale)) throw new MMNetError('bad-argument', `scale must be 1, 2, 3 or 4, not ${scale}`);
  if (mode !== 'fused' && mode !== 'mmnet' && mode !== 'raw' && mode !== 'hyper')
    throw new MMNetError('bad-argument', `unknown mode "${mode}"`);
  if (mode === 'fused' && !FUSED_SCALES.includes(scale)) {
    throw new MMNetError('bad-argument', `the fused mode works at scales ${FUSED_SCALES.join(', ')}; use mode "mmnet" for scale ${scale}`);
  }
}
