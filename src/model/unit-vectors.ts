import * as tf from '@tensorflow/tfjs-core';

/**
 * Unit-length vectors over the channel axis (PyTorch F.normalize, eps 1e-12). The sum of squares is
 * written out: `tf.norm` takes |x| to the power 2 with the generic Pow kernel, several times slower on wasm.
 */
export const l2Normalize = (x: tf.Tensor4D): tf.Tensor4D =>
  tf.tidy(() => tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), -1, true)), 1e-12)));
