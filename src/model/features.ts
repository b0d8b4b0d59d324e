import * as tf from '@tensorflow/tfjs-core';
import { scaleSpec, type ScaleIndex } from './constants';
import { MMNetError } from './errors';
import type { Size } from './image';
import { gridOf, mapTensors, type FeatureMaps } from './matching';

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

  /** Its mirror image's maps are here (`MMNet.encodeMirror`): `flip` and the mirror rule cost no encode. */
  get hasMirror(): boolean {
    return this.flipped !== undefined;
  }

  /** G_s as an h×w×21 tensor (a new tensor: the caller disposes it). */
  featureMap(scale: ScaleIndex): tf.Tensor3D {
    this.assertAlive();
    const { height, width } = gridOf(scaleSpec(scale).stride);
    return tf.reshape(this.maps.head[scale - 1].cells, [height, width, -1]);
  }

  /** @internal */ get isDisposed(): boolean {
    return this.disposed;
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
