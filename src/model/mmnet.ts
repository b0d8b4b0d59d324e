import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendOptions } from './backend';
import { DEFAULT_SCALE, FUSED_SCALES, SCALE_INDICES, scaleSpec, type ScaleIndex } from './constants';
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

export interface LoadOptions extends BackendOptions, WeightLoadOptions {
  /** A backend already being started (`selectBackend`, e.g. so shipped features can be read meanwhile): used instead of starting one. */
  backendStarted?: Promise<BackendReport>;
}

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

  /**
   * Encodes an image once; every later match against it only costs correlation rows. `onProgress`: the
   * fraction of the trunk's units run so far (on a GPU backend, dispatched so far).
   */
  async encode(image: ImageInput, { onProgress }: { onProgress?: (fraction: number) => void } = {}): Promise<Features> {
    this.assertAlive();
    const { pixels, size } = await readImage(image);
    const input = preprocess(pixels);
    pixels.dispose();
    try {
      return new Features(encodeMaps(this.weights, input, { onProgress }), input, size.width, size.height);
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
    return matchFeatures(queries, options, this.weights);
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

/**
 * `MMNet.matchMany` on features alone: matching needs no weights, so features read from a file answer
 * before the model has loaded. `weights` only encode the mirrored images that `flip` needs.
 */
export async function matchFeatures(queries: readonly MatchQuery[], options: MatchOptions = {}, weights?: WeightMap): Promise<Match[][]> {
  const { scale = DEFAULT_SCALE, mode = 'fused', flip = false, heatmap = false } = options;
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
  if (useFlip) {
    if (!weights) throw new MMNetError('model-load', 'flip needs the model, which is still loading');
    for (const q of asked) for (const f of [q.source, q.target]) f.flipped ??= encodeMaps(weights, f.input, { mirrored: true });
  }
  const rowQueries = (flipped: boolean) =>
    asked.map(({ source, target, points }) => ({
      source: flipped ? source.flipped! : source.maps,
      target: flipped ? target.flipped! : target.maps,
      points: points.map((p) => toInput(p, source.size)),
    }));
  const rows = scoredRowsOf(rowQueries(false), scale, mode, useFlip ? rowQueries(true) : undefined);
  const values = await rows.data();
  rows.dispose();

  const grid = rowGrid(mode, scale);
  const answers = new Map<MatchQuery, Match[]>();
  let first = 0;
  for (const q of asked) {
    answers.set(q, readMatches(values, q, grid, first, mode, heatmap));
    first += q.points.length;
  }
  return queries.map((q) => answers.get(q) ?? []);
}

/** The matches of one query from the stacked rows, its first row at `first`. */
function readMatches(
  values: ArrayLike<number>,
  { target, points }: MatchQuery,
  grid: Grid,
  first: number,
  mode: MatchMode,
  heatmap: boolean,
): Match[] {
  const cells = grid.height * grid.width;
  const logitScale = heatLogitScale(mode);
  return points.map((p, n) => {
    const offset = (first + n) * cells;
    const peak = refinedPeak(values, grid, offset);
    const cell = peak.i * grid.width + peak.j;
    return {
      source: { x: p.x, y: p.y },
      target: toOriginal(peakPoint(peak, grid.stride), target.size),
      cell: [peak.i, peak.j],
      score: peak.value,
      probability: cellProbability(values, cells, offset, cell, logitScale),
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
    (options.backendStarted ?? selectBackend(options)).then((backend) => ({ backend, backendMs: performance.now() - start })),
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
