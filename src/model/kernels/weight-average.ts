import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { onWebGPU, runPerItem, WEBGPU } from './program';

/**
 * LocalAttention's core ("WeightAverage", SPEC §3) after its θ, φ, g projections: each cell takes the
 * softmax over its 3×3 neighbourhood (edges repeated) of the cosine similarity of θ and φ, averages g
 * with those weights, projects back and adds the input: `x + back(Σ a · g_shift)`.
 */
export const WEIGHT_AVERAGE = 'MMNetWeightAverage';

export interface WeightAverageInputs {
  /** 1×h×w×F, the block's input. */
  x: tf.Tensor4D;
  /** 1×h×w×E each. */
  theta: tf.Tensor4D;
  phi: tf.Tensor4D;
  g: tf.Tensor4D;
  /** 1×1×E×F (HWIO) and F: the `back` 1×1 conv. */
  backWeight: tf.Tensor4D;
  backBias: tf.Tensor1D;
}

/** The reference is ~150 kernels on GPU backends (slices, norms, nine products); WebGPU runs one. */
export function weightAverage(inputs: WeightAverageInputs): tf.Tensor4D {
  if (onWebGPU()) return tf.engine().runKernel(WEIGHT_AVERAGE, { ...inputs }) as tf.Tensor4D;
  return reference(inputs);
}

/** Pads height and width by one cell that repeats the edge (PyTorch 'replicate'). */
export function padEdge(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const rows = tf.concat([tf.slice(x, [0, 0, 0, 0], [-1, 1, -1, -1]), x, tf.slice(x, [0, h - 1, 0, 0], [-1, 1, -1, -1])], 1);
    return tf.concat([tf.slice(rows, [0, 0, 0, 0], [-1, -1, 1, -1]), rows, tf.slice(rows, [0, 0, w - 1, 0], [-1, -1, 1, -1])], 2);
  });
}

/** The nine neighbourhood offsets (dy, dx) of the padded maps, row-major. */
const OFFSETS = [0, 1, 2].flatMap((dy) => [0, 1, 2].map((dx) => [dy, dx] as const));

function reference({ x, theta, phi, g, backWeight, backBias }: WeightAverageInputs): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const phiPadded = padEdge(phi);
    const gPadded = padEdge(g);
    const thetaNorm = tf.norm(theta, 'euclidean', -1, true);
    const shifted = (t: tf.Tensor4D, dy: number, dx: number) => tf.slice(t, [0, dy, dx, 0], [-1, h, w, -1]);
    const sims = OFFSETS.map(([dy, dx]) => {
      const p = shifted(phiPadded, dy, dx);
      const dot = tf.sum(tf.mul(theta, p), -1, true);
      return tf.div(dot, tf.maximum(tf.mul(thetaNorm, tf.norm(p, 'euclidean', -1, true)), 1e-8));
    });
    const attention = tf.softmax(tf.concat(sims, -1)); // 1×h×w×9
    // Summed pairwise, not with one addN: WebGL/WebGPU bind each addN input separately, and nine
    // inputs exceed the 8 storage buffers a WebGPU device guarantees (tfjs does not split addN).
    const aggregated = OFFSETS.map(([dy, dx], k) => tf.mul(tf.slice(attention, [0, 0, 0, k], [-1, -1, -1, 1]), shifted(gPadded, dy, dx))).reduce(
      (sum, term) => tf.add(sum, term),
    ) as tf.Tensor4D;
    return tf.add(x, tf.fused.conv2d({ x: aggregated, filter: backWeight, bias: backBias, strides: 1, pad: 'valid' }));
  });
}

export const weightAverageConfig: tf.KernelConfig = {
  kernelName: WEIGHT_AVERAGE,
  backendName: WEBGPU,
  kernelFunc: ({ inputs, backend }) => {
    const { x, theta, phi, g, backWeight, backBias } = inputs as unknown as Record<keyof WeightAverageInputs, tf.TensorInfo>;
    const [, h, w, features] = x.shape;
    const embedding = theta.shape[3];
    // One invocation per cell: the nine similarities and the average are shared by its F outputs.
    return runPerItem(
      backend as WebGPUBackend,
      { x, theta, phi, g, backWeight, backBias },
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
         t[e] = theta[index * ${embedding} + e];
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
           let p = phi[cell * ${embedding} + e];
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
           average[e] += a * g[cells[k] * ${embedding} + e];
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
  },
};
