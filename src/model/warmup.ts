import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_SCALE, INPUT_HEIGHT, INPUT_WIDTH } from './constants';
import { encodeMaps } from './encoder';
import { mapTensors, scoredRows } from './matching';
import type { BackendName } from './types';
import type { WeightMap } from './weights';

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
