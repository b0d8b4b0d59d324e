import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { onWebGPU, runPerItem, WEBGPU } from './program';

/**
 * The end of an MSBlock and the running sum of its scale (SPEC §3): `previous + down(o + o1 + o2 + o3)`,
 * `down` a 1×1 conv with bias. Without `previous` (a scale's first tap) it is `down(o + o1 + o2 + o3)`.
 */
export const SCALE_SUM = 'MMNetScaleSum';

export interface ScaleSumInputs {
  /** o, o1, o2, o3: 1×h×w×M each. */
  branches: readonly [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  /** 1×1×M×F (HWIO) and F. */
  downWeight: tf.Tensor4D;
  downBias: tf.Tensor1D;
  /** 1×h×w×F, the sum so far. */
  previous?: tf.Tensor4D;
}

/** The reference is three kernels (addN, conv, add); WebGPU runs one. */
export function scaleSum({ branches, downWeight, downBias, previous }: ScaleSumInputs): tf.Tensor4D {
  if (onWebGPU()) {
    const [o, o1, o2, o3] = branches;
    return tf.engine().runKernel(SCALE_SUM, { o, o1, o2, o3, downWeight, downBias, ...(previous && { previous }) }) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    const down = tf.fused.conv2d({ x: tf.addN([...branches]), filter: downWeight, bias: downBias, strides: 1, pad: 'valid' });
    return previous ? tf.add(previous, down) : down;
  });
}

export const scaleSumConfig: tf.KernelConfig = {
  kernelName: SCALE_SUM,
  backendName: WEBGPU,
  kernelFunc: ({ inputs, backend }) => {
    const { o, o1, o2, o3, downWeight, downBias, previous } = inputs as Record<string, tf.TensorInfo>;
    const [, h, w, inner] = o.shape;
    const features = downWeight.shape[3];
    // One invocation per cell: the branch sum is shared by its F outputs.
    return runPerItem(
      backend as WebGPUBackend,
      { o, o1, o2, o3, downWeight, downBias, ...(previous && { previous }) },
      [1, h, w, features],
      h * w,
      `${SCALE_SUM}_${inner}_${features}_${previous ? 'sum' : 'first'}`,
      `var m : array<f32, ${inner}>;
       for (var i = 0; i < ${inner}; i++) {
         let at = index * ${inner} + i;
         m[i] = o[at] + o1[at] + o2[at] + o3[at];
       }
       for (var c = 0; c < ${features}; c++) {
         var v = downBias[c];
         for (var i = 0; i < ${inner}; i++) {
           v += m[i] * downWeight[i * ${features} + c];
         }
         result[index * ${features} + c] = ${previous ? `previous[index * ${features} + c] + v` : 'v'};
       }`,
    );
  },
};
