import * as tf from '@tensorflow/tfjs-core';
import { BLOCK_UNITS } from './constants';
import { preActivation } from './kernels';
import { weight, type WeightMap } from './weights';

/** Name of a unit's tap as the head and the SPEC call it. */
export const tapName = (block: number, unit: number) => `block${block}_unit${unit}`;

/** Prefix of a unit's tensors in model.json (the TF-slim names, SPEC §2). */
const unitPrefix = (block: number, unit: number) => `block${block}_unit_${unit}_bottleneck_v2_`;

/**
 * ResNet-101 v2 blocks 1–3 (SPEC §2) on a 1×H×W×3 input, a unit per step: each unit's output (its tap) with
 * its name, as soon as it exists. The trunk keeps only the running activation, so a consumer that reduces
 * taps on the fly keeps peak memory to a few activations; a tap lives until the next step (a consumer must
 * not dispose it, and clones what it keeps). Stopping early disposes the activation.
 */
export function* trunkTaps(weights: WeightMap, input: tf.Tensor4D): Generator<[name: string, tap: tf.Tensor4D], void> {
  let x = tf.tidy(() => tf.maxPool(convBias(weights, STEM, input), 3, 2, 'same'));
  try {
    for (const [b, units] of BLOCK_UNITS.entries()) {
      for (let u = 1; u <= units; u++) {
        const next = bottleneck(weights, b + 1, u, x);
        x.dispose();
        x = next;
        yield [tapName(b + 1, u), x];
      }
    }
  } finally {
    x.dispose();
  }
}

/** One convolution of the trunk: its tensors' prefix in model.json, stride, symmetric padding, activation. */
export interface TrunkConv {
  name: string;
  stride: number;
  pad: number;
  activation: 'relu' | 'linear';
}

/** The stem: 7×7, stride 2. */
const STEM: TrunkConv = { name: 'conv1', stride: 2, pad: 3, activation: 'linear' };

/**
 * A unit's convolutions: the shortcut's projection (first unit of a block only), then the residual's
 * 1×1, 3×3 (striding in a block's last unit) and 1×1.
 */
function unitConvs(block: number, unit: number) {
  const prefix = unitPrefix(block, unit);
  const conv = (part: string, stride: number, pad: number, activation: TrunkConv['activation']): TrunkConv => ({
    name: `${prefix}${part}`,
    stride,
    pad,
    activation,
  });
  return {
    shortcut: unit === 1 ? conv('shortcut', 1, 0, 'linear') : undefined,
    conv1: conv('conv1', 1, 0, 'relu'),
    conv2: conv('conv2', unit === BLOCK_UNITS[block - 1] ? 2 : 1, 1, 'relu'),
    conv3: conv('conv3', 1, 0, 'linear'),
  };
}

/** Every convolution of the trunk, in the order an encode runs them. */
export function trunkConvs(): TrunkConv[] {
  const convs = [STEM];
  BLOCK_UNITS.forEach((units, b) => {
    for (let u = 1; u <= units; u++) {
      const { shortcut, conv1, conv2, conv3 } = unitConvs(b + 1, u);
      convs.push(...(shortcut ? [shortcut] : []), conv1, conv2, conv3);
    }
  });
  return convs;
}

/** A unit's pre-activation (its folded batch norm): scale and offset. */
const preactWeights = (prefix: string) => ({
  scale: `${prefix}preact_FusedBatchNorm_mul_0_param`,
  offset: `${prefix}preact_FusedBatchNorm_add_param`,
});

/**
 * The tensors each step of `trunkTaps` reads, in order (the first step runs the stem too): a step can run
 * once its tensors are made, while later ones may still be on their way.
 */
export function trunkStepWeights(): string[][] {
  const steps = BLOCK_UNITS.flatMap((count, b) =>
    Array.from({ length: count }, (_, u) => {
      const convs = Object.values(unitConvs(b + 1, u + 1)).filter((conv) => conv !== undefined);
      return [...convs.flatMap((conv) => Object.values(trunkConvWeights(conv))), ...Object.values(preactWeights(unitPrefix(b + 1, u + 1)))];
    }),
  );
  steps[0].unshift(...Object.values(trunkConvWeights(STEM)));
  return steps;
}

/** Pre-activation bottleneck unit; output = shortcut + residual, with no final relu. */
function bottleneck(weights: WeightMap, block: number, unit: number, x: tf.Tensor4D): tf.Tensor4D {
  const prefix = unitPrefix(block, unit);
  const convs = unitConvs(block, unit);
  const stride = convs.conv2.stride;
  return tf.tidy(() => {
    const preact = preactWeights(prefix);
    const pre = preActivation(x, weight<tf.Rank.R1>(weights, preact.scale), weight<tf.Rank.R1>(weights, preact.offset));
    const shortcut = convs.shortcut ? convBias(weights, convs.shortcut, pre) : stride === 1 ? x : tf.maxPool(x, 1, stride, 'valid'); // x[::s, ::s]; wasm's StridedSlice is ~10× slower
    const r1 = convBias(weights, convs.conv1, pre);
    const r2 = convBias(weights, convs.conv2, r1);
    const r3 = convBias(weights, convs.conv3, r2);
    return tf.add(shortcut, r3);
  });
}

/** A trunk convolution's filter (HWIO) and bias. */
export const trunkConvWeights = ({ name }: TrunkConv) => ({ filter: `${name}_weights`, bias: `${name}_Conv2D_bias` });

/** Conv (HWIO weights) with explicit symmetric zero padding, plus bias; `x` is 1×H×W×C. */
export function convBias(weights: WeightMap, conv: TrunkConv, x: tf.Tensor4D): tf.Tensor4D {
  const { filter, bias } = trunkConvWeights(conv);
  return tf.fused.conv2d({
    x,
    filter: weight<tf.Rank.R4>(weights, filter),
    bias: weight(weights, bias),
    strides: conv.stride,
    pad: conv.pad === 0 ? 'valid' : conv.pad,
    activation: conv.activation,
  });
}
