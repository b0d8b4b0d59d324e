import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { onWebGPU, runPerItem, WEBGPU } from './program';
import { l2Normalize } from '../unit-vectors';

/**
 * LocalAttention ("WeightAverage" in the paper's code, SPEC §3): θ, φ, g are 1×1 projections of x; each
 * cell takes the softmax over its 3×3 neighbourhood (edges repeated) of the cosine similarity of θ and φ,
 * averages g with those weights, projects back and adds the input: `x + back(Σ a · g_shift)`.
 */
export const WEIGHT_AVERAGE = 'MMNetWeightAverage';

/** A 1×1 conv: 1×1×in×out (HWIO) weight and its bias. */
export interface Pointwise {
  weight: tf.Tensor4D;
  bias: tf.Tensor1D;
}

export interface WeightAverageInputs {
  /** 1×h×w×F, the block's input. */
  x: tf.Tensor4D;
  /** F → E each. */
  theta: Pointwise;
  phi: Pointwise;
  g: Pointwise;
  /** E → F. */
  back: Pointwise;
}

/**
 * The reference (wasm, WebGL, CPU) is about 30 ops: projections, norms, two neighbourhood gathers and the
 * products; WebGPU runs two kernels: the three projections, then the rest.
 */
export function weightAverage(inputs: WeightAverageInputs): tf.Tensor4D {
  if (onWebGPU()) {
    const { x, theta, phi, g, back } = inputs;
    const named = Object.entries({ theta, phi, g, back }).flatMap(([name, p]) => [
      [`${name}Weight`, p.weight],
      [`${name}Bias`, p.bias],
    ]);
    return tf.engine().runKernel(WEIGHT_AVERAGE, { x, ...Object.fromEntries(named) }) as tf.Tensor4D;
  }
  return reference(inputs);
}

/** One cell before and after height and width. */
const ONE_CELL: [number, number][] = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];

/** Pads height and width by one cell that repeats the edge (PyTorch 'replicate'; at width 1 'symmetric' is that). */
export const padEdge = (x: tf.Tensor4D): tf.Tensor4D => tf.mirrorPad(x, ONE_CELL, 'symmetric');

/**
 * 3×3 depthwise filters (3×3×channels×9) that copy each channel's neighbour k (row-major, k = 3·dy + dx) to
 * output channel 9·c + k: one kernel gathers the whole neighbourhood, where nine slices would each copy a map.
 */
function neighbourhoodFilter(channels: number): tf.Tensor4D {
  const values = new Float32Array(9 * channels * 9);
  for (let k = 0; k < 9; k++) for (let c = 0; c < channels; c++) values[(k * channels + c) * 9 + k] = 1;
  return tf.tensor4d(values, [3, 3, channels, 9]);
}

const pointwise = (x: tf.Tensor4D, { weight, bias }: Pointwise) => tf.fused.conv2d({ x, filter: weight, bias, strides: 1, pad: 'valid' });

function reference({ x, ...projections }: WeightAverageInputs): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const embedding = projections.theta.weight.shape[3];
    const filter = neighbourhoodFilter(embedding);
    // (h·w)×E×9: each cell's nine edge-padded neighbours, side by side per channel.
    const neighbours = (t: tf.Tensor4D) => tf.reshape(tf.depthwiseConv2d(padEdge(t), filter, 1, 'valid'), [h * w, embedding, 9]);
    // Normalised before the gather, so each cosine is a dot product.
    const theta = tf.reshape(l2Normalize(pointwise(x, projections.theta)), [h * w, embedding, 1]);
    const phi = neighbours(l2Normalize(pointwise(x, projections.phi)));
    const attention = tf.softmax(tf.sum(tf.mul(theta, phi), 1)); // (h·w)×9
    const g = neighbours(pointwise(x, projections.g));
    const aggregated = tf.sum(tf.mul(g, tf.reshape(attention, [h * w, 1, 9])), 2); // (h·w)×E
    return tf.add(x, pointwise(tf.reshape(aggregated, [1, h, w, embedding]), projections.back));
  });
}

/** WGSL: `v` = the 1×1 projection `name` of x at `cell`, output channel `e`. */
const projectionSnippet = (name: string, features: number, embedding: number) => `
  v = ${name}Bias[e];
  for (var i = 0; i < ${features}; i++) {
    v += x[cell * ${features} + i] * ${name}Weight[i * ${embedding} + e];
  }`;

export const weightAverageConfig: tf.KernelConfig = {
  kernelName: WEIGHT_AVERAGE,
  backendName: WEBGPU,
  kernelFunc: ({ inputs, backend }) => {
    const { x, thetaWeight, thetaBias, phiWeight, phiBias, gWeight, gBias, backWeight, backBias } = inputs as Record<string, tf.TensorInfo>;
    const gpu = backend as WebGPUBackend;
    const [, h, w, features] = x.shape;
    const embedding = thetaWeight.shape[3];
    // 1×h×w×3E: θ, φ, g side by side at each cell. Two programs, as one would bind 10 storage buffers.
    const projected = runPerItem(
      gpu,
      { x, thetaWeight, thetaBias, phiWeight, phiBias, gWeight, gBias },
      [1, h, w, 3 * embedding],
      h * w * 3 * embedding,
      `${WEIGHT_AVERAGE}Projections_${features}_${embedding}`,
      `let cell = index / ${3 * embedding};
       let j = index - cell * ${3 * embedding};
       let e = j % ${embedding};
       var v = 0.0;
       if (j < ${embedding}) {${projectionSnippet('theta', features, embedding)}
       } else if (j < ${2 * embedding}) {${projectionSnippet('phi', features, embedding)}
       } else {${projectionSnippet('g', features, embedding)}
       }
       result[index] = v;`,
    );
    const stride = 3 * embedding;
    // One invocation per cell: the nine similarities and the average are shared by its F outputs.
    const out = runPerItem(
      gpu,
      { x, projected, backWeight, backBias },
      x.shape,
      h * w,
      `${WEIGHT_AVERAGE}_${embedding}_${features}`,
      `let h = uniforms.xShape.y;
       let w = uniforms.xShape.z;
       let y = index / w;
       let col = index - y * w;
       var t : array<f32, ${embedding}>;
       var thetaNorm = 0.0;
       for (var e = 0; e < ${embedding}; e++) {
         t[e] = projected[index * ${stride} + e];
         thetaNorm += t[e] * t[e];
       }
       thetaNorm = sqrt(thetaNorm);
       var sims : array<f32, 9>;
       var cells : array<i32, 9>;
       var top = -3.402823e38;
       for (var k = 0; k < 9; k++) {
         let cell = clamp(y + k / 3 - 1, 0, h - 1) * w + clamp(col + k % 3 - 1, 0, w - 1);
         cells[k] = cell;
         var product = 0.0;
         var phiNorm = 0.0;
         for (var e = 0; e < ${embedding}; e++) {
           let p = projected[cell * ${stride} + ${embedding} + e];
           product += t[e] * p;
           phiNorm += p * p;
         }
         sims[k] = product / max(thetaNorm * sqrt(phiNorm), 1e-8);
         top = max(top, sims[k]);
       }
       var total = 0.0;
       for (var k = 0; k < 9; k++) {
         sims[k] = exp(sims[k] - top);
         total += sims[k];
       }
       var average : array<f32, ${embedding}>;
       for (var k = 0; k < 9; k++) {
         let a = sims[k] / total;
         for (var e = 0; e < ${embedding}; e++) {
           average[e] += a * projected[cells[k] * ${stride} + ${2 * embedding} + e];
         }
       }
       for (var c = 0; c < ${features}; c++) {
         var v = backBias[c];
         for (var e = 0; e < ${embedding}; e++) {
           v += average[e] * backWeight[e * ${features} + c];
         }
         result[index * ${features} + c] = x[index * ${features} + c] + v;
       }`,
    );
    gpu.disposeData(projected.dataId);
    return out;
  },
};
