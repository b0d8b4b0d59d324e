import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendOptions } from './backend';
import { pairConsensus, applySupport, fitsMirrored, supportRow, type PairConsensus } from './consensus';
import { DEFAULT_SCALE, FUSED_SCALES, RAW_STRIDE, SCALE_INDICES, scaleSpec, type ScaleIndex } from './constants';
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

interface CachedConsensus {
  sigma: number;
  withMirror: boolean;
  pair: Promise<PairConsensus>;
}

/** MMNet with its weights on one tfjs backend. */
export class MMNet {
  private disposed = false;
  /** Each pair's consensus, computed on its first match and kept while both features live. */
  private readonly consensusOf = new WeakMap<Features, WeakMap<Features, CachedConsensus>>();

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
   * Many `match`es in one go (one source's points on many targets, or back): one readback, and the work
   * after the correlations runs once over all of them. Answers in the order of the queries.
   */
  async matchMany(queries: readonly MatchQuery[], options: MatchOptions = {}): Promise<Match[][]> {
    this.assertAlive();
    const constants = this.metadata.matching;
    const {
      scale = DEFAULT_SCALE,
      mode = 'fused',
      flip = false,
      heatmap = false,
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
    const useMirror = consensus && mirror;
    if (useFlip) for (const q of asked) this.ensureFlipped(q.source, q.target);
    if (useMirror) for (const q of asked) this.ensureFlipped(q.target);
    const pairs = await Promise.all(asked.map(({ source, target }) => this.pairConsensus(source, target, constants.sigma, useMirror)));
    const mirrored = pairs.map((pair) => useMirror && fitsMirrored(pair, constants));
    // A target matched mirrored is scored on its mirror image's maps (its flip average on its own).
    const rowQueries = (flipped: boolean) =>
      asked.map(({ source, target, points }, k) => ({
        source: flipped ? source.flipped! : source.maps,
        target: flipped !== mirrored[k] ? target.flipped! : target.maps,
        points: points.map((p) => toInput(p, source.size)),
      }));
    const rows = scoredRowsOf(rowQueries(false), scale, mode, useFlip ? rowQueries(true) : undefined);
    const values = await rows.data();
    rows.dispose();

    const grid = rowGrid(mode, scale);
    const answers = new Map<MatchQuery, Match[]>();
    let first = 0;
    for (const [k, q] of asked.entries()) {
      const geometry: Geometry = { pair: pairs[k], mirrored: mirrored[k], weight: consensus ? constants.weight : 0 };
      answers.set(q, readMatches(values, q, grid, first, mode, heatmap, geometry));
      first += q.points.length;
    }
    return queries.map((q) => answers.get(q) ?? []);
  }

  /**
   * The pair's consensus, cached; its mirrored histogram comes from the target's mirror image only when
   * the mirror rule needs it (an encode), else from the target's own maps (and goes unused).
   */
  private pairConsensus(source: Features, target: Features, sigma: number, withMirror: boolean): Promise<PairConsensus> {
    const bySource = this.consensusOf.get(source) ?? new WeakMap<Features, CachedConsensus>();
    this.consensusOf.set(source, bySource);
    let cached = bySource.get(target);
    // σ only changes when a selection run edits the metadata's constants.
    if (!cached || cached.sigma !== sigma || (withMirror && !cached.withMirror)) {
      const mirror = withMirror ? target.flipped!.raw : target.maps.raw;
      cached = { sigma, withMirror, pair: pairConsensus(source.maps.raw, target.maps.raw, mirror, gridOf(RAW_STRIDE), sigma) };
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

/** How a pair's consensus enters its rows: `weight` 0 leaves them as they are (support is still read). */
interface Geometry {
  pair: PairConsensus;
  mirrored: boolean;
  weight: number;
}

/**
 * The matches of one query from the stacked rows, its first row at `first`; its rows get the pair's
 * consensus first (in place), so the peak, probability and heat map are those of the row actually used.
 */
function readMatches(
  values: Float32Array | Int32Array | Uint8Array,
  { source, target, points }: MatchQuery,
  grid: Grid,
  first: number,
  mode: MatchMode,
  heatmap: boolean,
  { pair, mirrored, weight }: Geometry,
): Match[] {
  const cells = grid.height * grid.width;
  const logitScale = heatLogitScale(mode);
  const support = new Float32Array(cells);
  return points.map((p, n) => {
    const offset = (first + n) * cells;
    supportRow(pair, toInput(p, source.size), grid, mirrored, support);
    if (weight > 0) applySupport(values as Float32Array, offset, support, weight, logitScale);
    const peak = refinedPeak(values, grid, offset);
    const cell = peak.i * grid.width + peak.j;
    return {
      source: { x: p.x, y: p.y },
      target: toOriginal(peakPoint(peak, grid.stride), target.size),
      cell: [peak.i, peak.j],
      score: peak.value,
      probability: cellProbability(values, cells, offset, cell, logitScale),
      mirrored,
      support: support[cell],
      ...(heatmap && {
        heatmap: { data: softmaxRow(values, cells, offset, logitScale), width: grid.width, height: grid.height, stride: grid.stride },
      }),
    };
  });
}

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
