import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { onWebGPU, runPerItem, WEBGPU } from './program';

/**
 * An MSBlock's projection to the matching channels added to the running sum of its scale (SPEC §3):
 * `previous + down(m)`, `down` a 1×1 conv with bias. Without `previous` (a scale's first tap): `down(m)`.
 */
export const SCALE_SUM = 'MMNetScaleSum';

export interface ScaleSumInputs {
  /** 1×h×w×M, the MSBlock's branch sum. */
  m: tf.Tensor4D;
  /** 1×1×M×F (HWIO) and F. */
  downWeight: tf.Tensor4D;
  downBias: tf.Tensor1D;
  /** 1×h×w×F, the sum so far. */
  previous?: tf.Tensor4D;
}

/** The reference is two kernels (conv, add); WebGPU runs one. */
export function scaleSum({ m, downWeight, downBias, previous }: ScaleSumInputs): tf.Tensor4D {
  if (onWebGPU()) return tf.engine().runKernel(SCALE_SUM, { m, downWeight, downBias, ...(previous && { previous }) }) as tf.Tensor4D;
  return tf.tidy(() => {
    const down = tf.fused.conv2d({ x: m, filter: downWeight, bias: downBias, strides: 1, pad: 'valid' });
    return previous ? tf.add(previous, down) : down;
  });
}

export const scaleSumConfig: tf.KernelConfig = {
  kernelName: SCALE_SUM,
  backendName: WEBGPU,
  kernelFunc: ({ inputs, backend }) => {
    const { m, downWeight, previous } = inputs as Record<string, tf.TensorInfo>;
    const [, h, w, inner] = m.shape;
    const features = downWeight.shape[3];
    return runPerItem(
      backend as WebGPUBackend,
      inputs as Record<string, tf.TensorInfo>,
      [1, h, w, features],
      h * w * features,
      `${SCALE_SUM}_${inner}_${features}_${previous ? 'sum' : 'first'}`,
      `let c = index % ${features};
       let first = (index / ${features}) * ${inner};
       var v = downBias[c];
       for (var i = 0; i < ${inner}; i++) {
         v += m[first + i] * downWeight[i * ${features} + c];
       }
       result[index] = ${previous ? 'previous[index] + v' : 'v'};`,
    );
  },
};
