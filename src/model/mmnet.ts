import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendOptions } from './backend';
import { TrunkEncoder, TrunkFeatures } from './early-trunk';
import { encodeHead, encodeMaps } from './encoder';
import { MMNetError } from './errors';
import { shippedHyperpixelTaps } from './hyperpixels';
import { networkInput } from './image';
import type { BackendReport, ImageInput, LoadTimings, Match, MatchOptions, Point } from './types';
import type { FeatureMaps } from './matching';
import type { Size } from './image';
import { headWarmUps, trunkWarmer, warmUp } from './warmup';
import { decodeFetched, fetchWeights, type ModelMetadata, type WeightLoadOptions, type WeightMap } from './weights';
import { Features } from './features';
import { Matcher, type MatchQuery } from './matcher';

export interface LoadOptions extends BackendOptions, WeightLoadOptions {
  /** A backend already being started (`selectBackend`, e.g. so shipped features can be read meanwhile): used instead of starting one. */
  backendStarted?: Promise<BackendReport>;
  /**
   * Called once the first weights are made, long before the last (the head's) arrive: images given to the
   * `TrunkEncoder` meanwhile run their trunk, unit by unit as its weights are made, and only their head in
   * `MMNet.encode`.
   */
  onTrunk?: (trunk: TrunkEncoder) => void;
}

/** MMNet with its weights on one tfjs backend. */
export class MMNet {
  private disposed = false;
  private readonly matcher: Matcher;

  /** @internal */
  constructor(
    /** @internal */ readonly weights: WeightMap,
    readonly metadata: ModelMetadata,
    readonly backend: BackendReport,
    /** Every weight file came from the browser's cache. */
    readonly fromCache: boolean,
    /** Where the load's time went. */
    readonly loadTimings: LoadTimings,
  ) {
    this.matcher = new Matcher(metadata, weights);
  }

  /**
   * Encodes an image once; every later match against it only costs correlation rows. `onProgress`: the
   * fraction of the trunk's units run so far (on a GPU backend, dispatched so far). Given an image whose
   * trunk has run (`LoadOptions.onTrunk`), runs its head alone (with the hyperpixels it was asked for then).
   */
  async encode(
    image: ImageInput | TrunkFeatures,
    { onProgress, hyperpixels = false }: { onProgress?: (fraction: number) => void; hyperpixels?: boolean } = {},
  ): Promise<Features> {
    this.assertAlive();
    if (image instanceof TrunkFeatures) {
      const { maps, input } = image.take();
      return this.features(() => encodeHead(this.weights, maps), input, image);
    }
    const hyperTaps = hyperpixels ? shippedHyperpixelTaps(this.metadata) : undefined;
    const { input, size } = await networkInput(image);
    return this.features(() => encodeMaps(this.weights, input, { onProgress, hyperTaps }), input, size);
  }

  /** Features of `input`'s maps; the input is disposed if they cannot be made. */
  private features(maps: () => FeatureMaps, input: tf.Tensor4D, { width, height }: Size): Features {
    try {
      return new Features(maps(), input, width, height);
    } catch (e) {
      input.dispose();
      throw e;
    }
  }

  /**
   * Encodes the image's mirror ahead of the first match that needs it (`flip`, the mirror rule), so that
   * match costs no encode: an app can answer plainly first and decide mirrored in the background. With
   * `between`, the encode runs a trunk unit at a time and awaits `between()` after each, so that other work
   * (a click) runs in between instead of waiting for the whole encode; a throw from it abandons the encode.
   */
  async encodeMirror(features: Features, { between }: { between?: () => Promise<void> } = {}): Promise<void> {
    this.assertAlive();
    features.assertAlive();
    if (between) await this.matcher.flipInSteps(features, between);
    else this.matcher.ensureFlipped(features);
    // GPU backends return before the work is done: wait for the last map, as for an encode's time.
    await features.flipped!.head[features.flipped!.head.length - 1].cells.data();
  }

  /**
   * Where each source point (original source-image coordinates) lands in the target. Swap the
   * arguments for the reverse direction.
   */
  async match(source: Features, target: Features, points: readonly Point[], options: MatchOptions = {}): Promise<Match[]> {
    return (await this.matchMany([{ source, target, points }], options))[0];
  }

  /** The pair's one-off work, both ways, ahead of its first match (`Matcher.prepare`). */
  async prepare(source: Features, target: Features): Promise<void> {
    this.assertAlive();
    return this.matcher.prepare(source, target);
  }

  /**
   * Many `match`es in one go (one source's points on many targets, or back): two readbacks (the rows, then
   * the backward check's), and the work after the correlations runs once over all of them. Answers in the
   * order of the queries.
   */
  async matchMany(queries: readonly MatchQuery[], options: MatchOptions = {}): Promise<Match[][]> {
    this.assertAlive();
    return this.matcher.matchMany(queries, options);
  }

  /**
   * On wasm, the one-time cost the first encode would pay for the head's operators (`headWarmUps`), as steps
   * of a few ms to tens of ms each: run them while idle after the load. Empty on other backends.
   */
  headWarmUps(): (() => void)[] {
    this.assertAlive();
    return headWarmUps(this.weights);
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
 * Starts a backend (WebGPU → WebGL → WASM → CPU unless told otherwise) and meanwhile downloads (or, with
 * `cacheName`, reads from Cache Storage), verifies and decodes the weights under `baseUrl` (the
 * folder holding model.json). On a GPU backend it then compiles the shaders (`warmUp`), so the first
 * image encodes as fast as the next.
 */
export async function loadMMNet(baseUrl: string, options: LoadOptions = {}): Promise<MMNet> {
  const start = performance.now();
  // The backend starts while the weights download: only the tensors need it.
  const backendStarted = options.backendStarted ?? selectBackend(options);
  const warmTrunk = trunkWarmer();
  let early: TrunkEncoder | undefined;
  try {
    const [{ backend, backendMs }, fetched] = await Promise.all([
      backendStarted.then((backend) => ({ backend, backendMs: performance.now() - start })),
      fetchWeights(baseUrl, {
        ...options,
        backendReady: backendStarted,
        onTensors: (made, metadata) => {
          warmTrunk(made);
          if (options.onTrunk && !early) {
            early = new TrunkEncoder(made, metadata);
            options.onTrunk(early);
          }
          early?.made();
          options.onTensors?.(made, metadata);
        },
      }),
    ]);
    const { weights, metadata, fromCache, timings } = await decodeFetched(fetched);
    try {
      await warmUp(weights, backend.name);
    } catch (e) {
      tf.dispose(Object.values(weights));
      throw e;
    }
    return new MMNet(weights, metadata, backend, fromCache, { ...timings, backendMs, totalMs: performance.now() - start });
  } catch (e) {
    early?.fail();
    throw e;
  }
}
