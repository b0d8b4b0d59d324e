import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendOptions } from './backend';
import { pairConsensus, applySupport, fitsMirrored, supportRow, type PairConsensus } from './consensus';
import { DEFAULT_SCALE, FUSED_SCALES, RAW_STRIDE, SCALE_INDICES, scaleSpec, type ScaleIndex } from './constants';
import {
  calibrationKey,
  companionScale,
  confidenceOf,
  rowEntropy,
  secondModeMargin,
  usesScaleDistance,
  type CalibratorConstants,
  type MatchSignals,
} from './confidence';
import { encodeMaps } from './encoder';
import { MMNetError } from './errors';
import { preprocess, readImage, toInput, toOriginal, type Size } from './image';
import {
  cellProbability,
  gridOf,
  heatLogitScale,
  mapTensors,
  peakPoint,
  refinedPeak,
  rowGrid,
  scoredRowsOf,
  type Grid,
  type Peak,
  softmaxRow,
  type FeatureMaps,
} from './matching';
import type { BackendReport, ImageInput, LoadTimings, Match, MatchMode, MatchOptions, Point } from './types';
import { warmUp } from './warmup';
import { decodeFetched, fetchWeights, type ModelMetadata, type WeightLoadOptions, type WeightMap } from './weights';

export interface LoadOptions extends BackendOptions, WeightLoadOptions {}

/** One `match` of a batch: points of `source` (original source-image coordinates) found in `target`. */
export interface MatchQuery {
  source: Features;
  target: Features;
  points: readonly Point[];
}

/** One encoded image: its feature maps, its original size, and (lazily) its mirror's maps. */
export class Features {
  /** @internal */ flipped?: FeatureMaps;
  private disposed = false;

  /** @internal */
  constructor(
    /** @internal */ readonly maps: FeatureMaps,
    /** @internal */ readonly input: tf.Tensor4D,
    readonly width: number,
    readonly height: number,
  ) {}

  get size(): Size {
    return { width: this.width, height: this.height };
  }

  /** G_s as an h×w×21 tensor (a new tensor: the caller disposes it). */
  featureMap(scale: ScaleIndex): tf.Tensor3D {
    this.assertAlive();
    const { height, width } = gridOf(scaleSpec(scale).stride);
    return tf.reshape(this.maps.head[scale - 1].cells, [height, width, -1]);
  }

  /** @internal */
  assertAlive(): void {
    if (this.disposed) throw new MMNetError('bad-argument', 'these features were disposed');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...mapTensors(this.maps), ...(this.flipped ? mapTensors(this.flipped) : []), this.input]);
  }
}

/** MMNet with its weights on one tfjs backend. */
export class MMNet {
  private disposed = false;
  /** Each pair's consensus, computed on its first match and kept while both features live. */
  private readonly consensusOf = new WeakMap<Features, WeakMap<Features, { sigma: number; pair: Promise<PairConsensus> }>>();

  /** @internal */
  constructor(
    /** @internal */ readonly weights: WeightMap,
    readonly metadata: ModelMetadata,
    readonly backend: BackendReport,
    /** Every weight file came from the browser's cache. */
    readonly fromCache: boolean,
    /** Where the load's time went. */
    readonly loadTimings: LoadTimings,
  ) {}

  /** Encodes an image once; every later match against it only costs correlation rows. */
  async encode(image: ImageInput): Promise<Features> {
    this.assertAlive();
    const { pixels, size } = await readImage(image);
    const input = preprocess(pixels);
    pixels.dispose();
    try {
      return new Features(encodeMaps(this.weights, input), input, size.width, size.height);
    } catch (e) {
      input.dispose();
      throw e;
    }
  }

  /**
   * Where each source point (original source-image coordinates) lands in the target. Swap the
   * arguments for the reverse direction.
   */
  async match(source: Features, target: Features, points: readonly Point[], options: MatchOptions = {}): Promise<Match[]> {
    return (await this.matchMany([{ source, target, points }], options))[0];
  }

  /**
   * Many `match`es in one go (one source's points on many targets, or back): two readbacks (the rows, then
   * the backward check's), and the work after the correlations runs once over all of them. Answers in the
   * order of the queries.
   */
  async matchMany(queries: readonly MatchQuery[], options: MatchOptions = {}): Promise<Match[][]> {
    this.assertAlive();
    const constants = this.metadata.matching;
    const {
      scale = DEFAULT_SCALE,
      mode = 'fused',
      flip = false,
      heatmap = false,
      allSignals = false,
      consensus = constants.consensus,
      mirror = constants.mirror,
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

    const useFlip = flip && mode !== 'raw';
    if (useFlip) for (const q of asked) this.ensureFlipped(q.source, q.target);
    const settings = { mode, flip: useFlip, consensus, mirror };

    const calibrator = this.metadata.confidence?.models[calibrationKey({ mode, scale, flip: useFlip, consensus })];
    const grid = rowGrid(mode, scale);
    const companion = allSignals || usesScaleDistance(calibrator) ? companionScale(mode, scale) : undefined;
    const [{ values, supports, mirrored }, companionRows] = await Promise.all([
      this.readRows(asked, { ...settings, scale }),
      companion && this.readRows(asked, { ...settings, scale: companion }),
    ]);
    const companionValues = companionRows && companionRows.values;
    const peaks = peaksOf(values, asked, grid);
    const targets = asked.map((q, k) => peaks[k].map((peak) => targetPoint(peak, grid, q.target)));
    // The forward–backward check: every prediction matched back onto its source.
    const backward = asked.map((q, k) => ({ source: q.target, target: q.source, points: targets[k] }));
    const { values: backValues } = await this.readRows(backward, { ...settings, scale });
    const backs = peaksOf(backValues, backward, grid).map((row, k) => row.map((peak) => targetPoint(peak, grid, asked[k].source)));
    const companionGrid = companion && rowGrid(mode, companion);
    const companions =
      companionValues &&
      companionGrid &&
      peaksOf(companionValues, asked, companionGrid).map((row, k) => row.map((peak) => targetPoint(peak, companionGrid, asked[k].target)));

    const answers = new Map<MatchQuery, Match[]>();
    let first = 0;
    asked.forEach((q, k) => {
      const checks = {
        peaks: peaks[k],
        targets: targets[k],
        backs: backs[k],
        companions: companions?.[k],
        supports,
        mirrored: mirrored[k],
      };
      answers.set(q, readMatches(values, q, grid, first, { mode, heatmap, calibrator }, checks));
      first += q.points.length;
    });
    return queries.map((q) => answers.get(q) ?? []);
  }

  /**
   * The scored rows of the queries, stacked in order and read back (one readback), each weighed by its pair's
   * consensus when asked (in place, so the peak, probability and heat map are those of the row used);
   * `supports`: each row's consensus support, stacked the same way; `mirrored`: per query, the mirror rule chose
   * the mirrored target.
   */
  private async readRows(
    queries: readonly MatchQuery[],
    { scale, mode, flip, consensus, mirror }: { scale: ScaleIndex; mode: MatchMode; flip: boolean; consensus: boolean; mirror: boolean },
  ): Promise<{ values: Float32Array; supports: Float32Array; mirrored: boolean[] }> {
    const constants = this.metadata.matching;
    const rowQueries = (flipped: boolean) =>
      queries.map(({ source, target, points }) => ({
        source: flipped ? source.flipped! : source.maps,
        target: flipped ? target.flipped! : target.maps,
        points: points.map((p) => toInput(p, source.size)),
      }));
    // The consensus of a new pair is computed while the rows are.
    const pairs = queries.map(({ source, target }) => this.pairConsensus(source, target, constants.sigma));
    const rows = scoredRowsOf(rowQueries(false), scale, mode, flip ? rowQueries(true) : undefined);
    let values: Float32Array;
    try {
      values = (await rows.data()) as Float32Array;
    } finally {
      rows.dispose();
    }
    const grid = rowGrid(mode, scale);
    const cells = grid.height * grid.width;
    const supports = new Float32Array(values.length);
    const mirrored: boolean[] = [];
    let offset = 0;
    for (const [k, { source, points }] of queries.entries()) {
      const pair = await pairs[k];
      mirrored.push(consensus && mirror && fitsMirrored(pair, constants));
      for (const p of points) {
        const support = supports.subarray(offset, offset + cells);
        supportRow(pair, toInput(p, source.size), grid, mirrored[k], support);
        if (consensus) applySupport(values, offset, support, constants.weight, heatLogitScale(mode));
        offset += cells;
      }
    }
    return { values, supports, mirrored };
  }

  private pairConsensus(source: Features, target: Features, sigma: number): Promise<PairConsensus> {
    const bySource = this.consensusOf.get(source) ?? new WeakMap<Features, { sigma: number; pair: Promise<PairConsensus> }>();
    this.consensusOf.set(source, bySource);
    let cached = bySource.get(target);
    // σ only changes when a selection run edits the metadata's constants.
    if (cached?.sigma !== sigma) {
      cached = { sigma, pair: pairConsensus(source.maps.raw, target.maps.raw, gridOf(RAW_STRIDE), sigma) };
      bySource.set(target, cached);
    }
    return cached.pair;
  }

  private ensureFlipped(...features: Features[]): void {
    for (const f of features) f.flipped ??= encodeMaps(this.weights, f.input, { mirrored: true });
  }

  private assertAlive(): void {
    if (this.disposed) throw new MMNetError('bad-argument', 'the model was disposed');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose(Object.values(this.weights));
  }
}

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
  supports: Float32Array;
  mirrored: boolean;
}

/** The matches of one query from the stacked rows, its first row at `first`. */
function readMatches(
  values: ArrayLike<number>,
  { source, target, points }: MatchQuery,
  grid: Grid,
  first: number,
  { mode, heatmap, calibrator }: { mode: MatchMode; heatmap: boolean; calibrator?: CalibratorConstants },
  { peaks, targets, backs, companions, supports, mirrored }: Checks,
): Match[] {
  const cells = grid.height * grid.width;
  const logitScale = heatLogitScale(mode);
  return points.map((p, n) => {
    const offset = (first + n) * cells;
    const peak = peaks[n];
    const cell = peak.i * grid.width + peak.j;
    const backError = distance(backs[n], p);
    const signals: MatchSignals = {
      probability: cellProbability(values, cells, offset, cell, logitScale),
      margin: secondModeMargin(values, grid, offset, cell, logitScale),
      entropy: rowEntropy(values, cells, offset, logitScale),
      backDistance: backError / longerSide(source),
      scaleDistance: companions ? distance(companions[n], targets[n]) / longerSide(target) : NaN,
      support: supports[offset + cell],
    };
    return {
      source: { x: p.x, y: p.y },
      target: targets[n],
      cell: [peak.i, peak.j],
      score: peak.value,
      probability: signals.probability,
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

function checkMatchOptions(scale: ScaleIndex, mode: MatchMode): void {
  if (!SCALE_INDICES.includes(scale)) throw new MMNetError('bad-argument', `scale must be 1, 2, 3 or 4, not ${scale}`);
  if (mode !== 'fused' && mode !== 'mmnet' && mode !== 'raw') throw new MMNetError('bad-argument', `unknown mode "${mode}"`);
  if (mode === 'fused' && !FUSED_SCALES.includes(scale)) {
    throw new MMNetError('bad-argument', `the fused mode works at scales ${FUSED_SCALES.join(', ')}; use mode "mmnet" for scale ${scale}`);
  }
}

/**
 * Starts a backend (WebGPU → WebGL → WASM → CPU unless told otherwise) and meanwhile downloads (or, with
 * `cacheName`, reads from Cache Storage), verifies and decodes the weights under `baseUrl` (the
 * folder holding model.json). On a GPU backend it then compiles the shaders (`warmUp`), so the first
 * image encodes as fast as the next.
 */
export async function loadMMNet(baseUrl: string, options: LoadOptions = {}): Promise<MMNet> {
  const start = performance.now();
  // The backend starts while the weights download: only the tensors need it.
  const [{ backend, backendMs }, fetched] = await Promise.all([
    selectBackend(options).then((backend) => ({ backend, backendMs: performance.now() - start })),
    fetchWeights(baseUrl, options),
  ]);
  const { weights, metadata, fromCache, timings } = await decodeFetched(fetched);
  try {
    await warmUp(weights, backend.name);
  } catch (e) {
    tf.dispose(Object.values(weights));
    throw e;
  }
  return new MMNet(weights, metadata, backend, fromCache, { ...timings, backendMs, totalMs: performance.now() - start });
}
