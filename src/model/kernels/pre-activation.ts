import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { onWebGPU, runPerItem, WEBGPU } from './program';

/** A trunk unit's pre-activation: folded batch norm then relu, `relu(x · scale + shift)`. */
export const PRE_ACTIVATION = 'MMNetPreActivation';

/** x: 1×h×w×C, scale and shift: C. The reference is three kernels on GPU backends; WebGPU runs one. */
export function preActivation(x: tf.Tensor4D, scale: tf.Tensor1D, shift: tf.Tensor1D): tf.Tensor4D {
  if (onWebGPU()) return tf.engine().runKernel(PRE_ACTIVATION, { x, scale, shift }) as tf.Tensor4D;
  return tf.tidy(() => tf.relu(tf.add(tf.mul(x, scale), shift)) as tf.Tensor4D);
}

export const preActivationConfig: tf.KernelConfig = {
  kernelName: PRE_ACTIVATION,
  backendName: WEBGPU,
  kernelFunc: ({ inputs, backend }) => {
    const { x, scale, shift } = inputs as Record<'x' | 'scale' | 'shift', tf.TensorInfo>;
    return runPerItem(
      backend as WebGPUBackend,
      { x, scale, shift },
      x.shape,
      tf.util.sizeFromShape(x.shape),
      PRE_ACTIVATION,
      `let c = index % uniforms.xShape.w;
       result[index] = max(x[index] * scale[c] + shift[c], 0.0);`,
    );
  },
};
