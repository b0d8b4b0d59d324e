import * as tf from '@tensorflow/tfjs-core';
import { BLOCK_UNITS } from './constants';
import { preActivation } from './kernels';
import { weight, type WeightMap } from './weights';

/** Name of a unit's tap as the head and the SPEC call it. */
export const tapName = (block: number, unit: number) => `block${block}_unit${unit}`;

/** Prefix of a unit's tensors in model.json (the TF-slim names, SPEC §2). */
const unitPrefix = (block: number, unit: number) => `block${block}_unit_${unit}_bottleneck_v2_`;

/**
 * ResNet-101 v2 blocks 1–3 (SPEC §2) on a 1×H×W×3 input. Each unit's output (its tap) is handed to
 * `onTap` as soon as it exists; the trunk keeps only the running activation, so a consumer that
 * reduces taps on the fly keeps peak memory to a few activations. `onTap` must not dispose the tap.
 */
export function runTrunk(weights: WeightMap, input: tf.Tensor4D, onTap: (name: string, tap: tf.Tensor4D) => void): void {
  let x = tf.tidy(() => {
    const conv1 = convBias(weights, 'conv1', input, 2, 3);
    return tf.maxPool(conv1, 3, 2, 'same');
  });
  BLOCK_UNITS.forEach((units, b) => {
    for (let u = 1; u <= units; u++) {
      const next = bottleneck(weights, unitPrefix(b + 1, u), x, u === units ? 2 : 1, u === 1);
      x.dispose();
      x = next;
      onTap(tapName(b + 1, u), x);
    }
  });
  x.dispose();
}

/** Pre-activation bottleneck unit; output = shortcut + residual, with no final relu. */
function bottleneck(weights: WeightMap, prefix: string, x: tf.Tensor4D, stride: 1 | 2, projectShortcut: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const pre = preActivation(
      x,
      weight<tf.Rank.R1>(weights, `${prefix}preact_FusedBatchNorm_mul_0_param`),
      weight<tf.Rank.R1>(weights, `${prefix}preact_FusedBatchNorm_add_param`),
    );
    const shortcut = projectShortcut
      ? convBias(weights, `${prefix}shortcut`, pre, 1, 0)
      : stride === 1
        ? x
        : tf.maxPool(x, 1, stride, 'valid'); // x[::s, ::s]; wasm's StridedSlice is ~10× slower
    const r1 = convBias(weights, `${prefix}conv1`, pre, 1, 0, 'relu');
    const r2 = convBias(weights, `${prefix}conv2`, r1, stride, 1, 'relu');
    const r3 = convBias(weights, `${prefix}conv3`, r2, 1, 0);
    return tf.add(shortcut, r3);
  });
}

/** Conv (HWIO weights) with explicit symmetric zero padding, plus bias. */
function convBias(weights: WeightMap, name: string, x: tf.Tensor4D, stride: number, pad: number, activation?: 'relu'): tf.Tensor4D {
  return tf.fused.conv2d({
    x,
    filter: weight<tf.Rank.R4>(weights, `${name}_weights`),
    bias: weight(weights, `${name}_Conv2D_bias`),
    strides: stride,
    pad: pad === 0 ? 'valid' : pad,
    activation: activation ?? 'linear',
  });
}
