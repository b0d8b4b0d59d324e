/**
 * The staged encode: on a first visit the weights arrive over seconds, the trunk's first and the head's last.
 * An image that arrives before the model is ready runs its trunk unit by unit as each unit's weights are
 * made (`LoadOptions.onTrunk`), while the rest still download; `MMNet.encode` then runs only its head.
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeTrunk, encodeTrunk, type TrunkMaps } from './encoder';
import { MMNetError } from './errors';
import { shippedHyperpixelTaps } from './hyperpixels';
import { networkInput } from './image';
import type { ImageInput } from './types';
import { nextTask, type ModelMetadata, type WeightMap } from './weights';

/** An image whose trunk has run (`TrunkEncoder.encodeTrunk`), waiting for the head: `MMNet.encode` finishes it. */
export class TrunkFeatures {
  private done = false;

  /** @internal */
  constructor(
    private readonly maps: TrunkMaps,
    private readonly input: tf.Tensor4D,
    readonly width: number,
    readonly height: number,
    private readonly released: (trunk: TrunkFeatures) => void,
  ) {}

  /** Disposed, or handed to `MMNet.encode`. */
  get used(): boolean {
    return this.done;
  }

  /** @internal Hands its tensors over (to the head), once. */
  take(): { maps: TrunkMaps; input: tf.Tensor4D } {
    if (this.done) throw new MMNetError('bad-argument', 'this trunk was disposed or already encoded');
    this.done = true;
    this.released(this);
    return { maps: this.maps, input: this.input };
  }

  /** Frees its tensors (about 49 MB), e.g. when its image is replaced before the head arrives. */
  dispose(): void {
    if (this.done) return;
    this.done = true;
    this.released(this);
    disposeTrunk(this.maps);
    this.input.dispose();
  }
}

/** A trunk step waiting for its weights. */
interface Waiting {
  names: readonly string[];
  done: () => void;
  fail: (e: unknown) => void;
}

/**
 * The trunk's half of a model still loading, handed out by `loadMMNet`'s `onTrunk`. If the load then fails,
 * every trunk it made that was not yet encoded is disposed, and it encodes no more.
 */
export class TrunkEncoder {
  private readonly live = new Set<TrunkFeatures>();
  private waiting: Waiting[] = [];
  private failed = false;

  /** @internal `weights`: the tensors made so far, filled as the load goes on (`made` says when). */
  constructor(
    private readonly weights: WeightMap,
    private readonly metadata: ModelMetadata,
  ) {}

  /**
   * Runs an image's trunk, a unit per task (the load's own work goes on in between), each unit as soon as
   * its weights are made. `onProgress`: the fraction of the trunk's units run; `hyperpixels` as for
   * `MMNet.encode`.
   */
  async encodeTrunk(
    image: ImageInput,
    { onProgress, hyperpixels = false }: { onProgress?: (fraction: number) => void; hyperpixels?: boolean } = {},
  ): Promise<TrunkFeatures> {
    this.assertLoading();
    const hyperTaps = hyperpixels ? shippedHyperpixelTaps(this.metadata) : undefined;
    const { input, size } = await networkInput(image);
    try {
      this.assertLoading();
      const maps = await encodeTrunk(this.weights, input, { onProgress, hyperTaps, weightsFor: (names) => this.weightsFor(names) });
      const trunk = new TrunkFeatures(maps, input, size.width, size.height, (t) => this.live.delete(t));
      this.live.add(trunk);
      return trunk;
    } catch (e) {
      input.dispose();
      throw e;
    }
  }

  /** @internal More of the weights were made. */
  made(): void {
    const ready = this.waiting.filter((w) => this.has(w.names));
    this.waiting = this.waiting.filter((w) => !ready.includes(w));
    for (const w of ready) w.done();
  }

  /** @internal The load failed: its weights are gone, and so is every trunk not yet encoded. */
  fail(): void {
    this.failed = true;
    for (const trunk of [...this.live]) trunk.dispose();
    for (const w of this.waiting.splice(0)) w.fail(new MMNetError('model-load', 'the model failed to load'));
  }

  private has(names: readonly string[]): boolean {
    return names.every((name) => this.weights[name]);
  }

  /** Returns in a new task (the thread's other work goes first), once `names` are made. */
  private async weightsFor(names: readonly string[]): Promise<void> {
    await nextTask();
    this.assertLoading();
    if (!this.has(names)) await new Promise<void>((done, fail) => this.waiting.push({ names, done, fail }));
  }

  private assertLoading(): void {
    if (this.failed) throw new MMNetError('model-load', 'the model failed to load');
  }
}
