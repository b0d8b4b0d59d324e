import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_SCALE, FEATURE_CHANNELS, INPUT_HEIGHT, INPUT_WIDTH, SCALES, type ScaleSpec } from './constants';
import { encodeMaps } from './encoder';
import { crossScale, localAttention, msBlock } from './head';
import { mapTensors, scoredRows } from './matching';
import { convBias, trunkConvs, trunkConvWeights } from './trunk';
import type { BackendName } from './types';
import { weight, type WeightMap } from './weights';

/**
 * GPU backends compile one shader per kernel on its first use, seconds for a whole encode, and upload
 * the weights then. This does both before the model is reported ready, by running an encode of a
 * blank image and a click's match (every input has the same size, so every later encode reuses the
 * shaders). WebGPU only compiles (tfjs's compile-only mode: pipelines built in parallel, weights
 * uploaded, nothing run); WebGL runs them once, as its compile-only mode skips the weight upload,
 * which would then fall on the first image. CPU backends have nothing to compile.
 */
export async function warmUp(weights: WeightMap, backend: BackendName): Promise<void> {
  if (backend === 'webgpu') {
    tf.env().set('WEBGPU_ENGINE_COMPILE_ONLY', true);
    try {
      tf.dispose(encodeAndMatch(weights));
    } finally {
      tf.env().set('WEBGPU_ENGINE_COMPILE_ONLY', false);
    }
    await (tf.backend() as unknown as { checkCompileCompletionAsync(): Promise<void> }).checkCompileCompletionAsync();
  } else if (backend === 'webgl') {
    const outputs = encodeAndMatch(weights);
    await outputs[outputs.length - 1].data();
    tf.dispose(outputs);
  }
}

/** The kernels of an encode and of one click's match; every tensor made, the match rows last. */
function encodeAndMatch(weights: WeightMap): tf.Tensor[] {
  const input = tf.zeros([1, INPUT_HEIGHT, INPUT_WIDTH, 3]) as tf.Tensor4D;
  const maps = encodeMaps(weights, input);
  const rows = scoredRows(maps, maps, [{ x: INPUT_WIDTH / 2, y: INPUT_HEIGHT / 2 }], DEFAULT_SCALE, 'fused');
  return [input, ...mapTensors(maps), rows];
}

/**
 * tfjs-wasm builds an XNNPACK operator for each convolution on its first run and packs the filter into it,
 * keyed by the filter tensor and the convolution's settings, not by the input's size: the one-time cost of a
 * page's first encode (about 1.3 s of 2.1 s in Node). This pays it for the trunk's convolutions (three
 * quarters of the weights) one by one on a filter-sized input, as their tensors are made: while the rest
 * downloads or is read from the cache, instead of inside the first photo's encode. Call it with the tensors
 * made so far, as often as they change; it does nothing off wasm.
 */
export function trunkWarmer(): (made: WeightMap) => void {
  const pending = new Set(trunkConvs());
  return (made) => {
    if (tf.getBackend() !== 'wasm') return;
    for (const conv of pending) {
      const { filter, bias } = trunkConvWeights(conv);
      if (!made[filter] || !made[bias]) continue;
      const [height, width, channels] = made[filter].shape;
      tf.tidy(() => {
        convBias(made, conv, tf.zeros([1, height, width, channels]));
      });
      pending.delete(conv);
    }
  };
}

/** A map of a scale's size for an input of one cell at the coarsest scale (the head's smallest consistent input). */
const zerosAt = (scale: ScaleSpec, channels: number) => {
  const cells = SCALES[SCALES.length - 1].stride / scale.stride;
  return tf.zeros([1, cells, cells, channels]) as tf.Tensor4D;
};

/**
 * The head's share of the one-time cost `trunkWarmer` pays for the trunk: each of its convolutions (every
 * tap's MSBlock, every scale's attention, the top-down pathway) run once on a tiny input. The head's weights
 * come last in the shards, so its operators cannot be built during the load as the trunk's are: this hands
 * the work out in steps, for a caller to run while it would otherwise wait (the page opening the photos), so
 * that the first photo's encode does not pay for them. Nothing off wasm.
 */
export function headWarmUps(weights: WeightMap): (() => void)[] {
  if (tf.getBackend() !== 'wasm') return [];
  const run = (head: () => tf.Tensor | tf.Tensor[]) => () => tf.dispose(tf.tidy(head));
  return [
    ...SCALES.flatMap((scale) =>
      scale.taps.map((tap) =>
        run(() => msBlock(weights, tap, zerosAt(scale, weight<tf.Rank.R4>(weights, `ms.${tap}.conv.weight`).shape[2]))),
      ),
    ),
    ...SCALES.map((scale) => run(() => localAttention(weights, scale.index, zerosAt(scale, FEATURE_CHANNELS)))),
    run(() =>
      crossScale(
        weights,
        SCALES.map((scale) => zerosAt(scale, FEATURE_CHANNELS)),
      ),
    ),
  ];
}
