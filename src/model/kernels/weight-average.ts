import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { onWebGPU, runPerItem, WEBGPU } from './program';

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
 * The reference is ~155 kernels on GPU backends (projections, slices, norms, nine products); WebGPU
 * runs two: the three projections, then the rest.
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

const pointwise = (x: tf.Tensor4D, { weight, bias }: Pointwise) => tf.fused.conv2d({ x, filter: weight, bias, strides: 1, pad: 'valid' });

function reference({ x, ...projections }: WeightAverageInputs): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const theta = pointwise(x, projections.theta);
    const phiPadded = padEdge(pointwise(x, projections.phi));
    const gPadded = padEdge(pointwise(x, projections.g));
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
    const aggregated = OFFSETS.map(([dy, dx], k) =>
      tf.mul(tf.slice(attention, [0, 0, 0, k], [-1, -1, -1, 1]), shifted(gPadded, dy, dx)),
    ).reduce((sum, term) => tf.add(sum, term)) as tf.Tensor4D;
    return tf.add(x, pointwise(aggregated, projections.back));
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
