import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { onWebGPU, runPerItem, WEBGPU } from './program';

/**
 * The MSBlock's dilated branches and their sum (SPEC §3): `m = o + Σ_k relu(conv_k(o))`, each conv_k a
 * 3×3 conv with bias, dilation d_k and zero padding d_k (the size is kept).
 */
export const MS_BRANCHES = 'MMNetMSBranches';

export interface MSBranch {
  /** 3×3×M×M (HWIO) and M. */
  weight: tf.Tensor4D;
  bias: tf.Tensor1D;
  dilation: number;
}

/** o: 1×h×w×M. The reference is four kernels (three convs, addN); WebGPU runs one. */
export function msBranches(o: tf.Tensor4D, branches: readonly [MSBranch, MSBranch, MSBranch]): tf.Tensor4D {
  if (onWebGPU()) {
    const inputs = Object.fromEntries(
      branches.flatMap((b, k) => [
        [`weight${k}`, b.weight],
        [`bias${k}`, b.bias],
      ]),
    );
    return tf.engine().runKernel(MS_BRANCHES, { o, ...inputs }, { dilations: branches.map((b) => b.dilation) }) as tf.Tensor4D;
  }
  return tf.tidy(() =>
    tf.addN([
      o,
      ...branches.map(({ weight, bias, dilation }) =>
        tf.fused.conv2d({ x: o, filter: weight, bias, strides: 1, pad: dilation, dilations: dilation, activation: 'relu' }),
      ),
    ]),
  );
}

/** WGSL adding relu(conv_k(o))[cell, c] to `m`: zero padding skips the taps that fall outside. */
const branchSnippet = (k: number, dilation: number, channels: number) => `
  {
    var v = bias${k}[c];
    for (var ky = -1; ky <= 1; ky++) {
      let iy = y + ky * ${dilation};
      if (iy < 0 || iy >= h) { continue; }
      for (var kx = -1; kx <= 1; kx++) {
        let ix = col + kx * ${dilation};
        if (ix < 0 || ix >= w) { continue; }
        let first = (iy * w + ix) * ${channels};
        let taps = ((ky + 1) * 3 + kx + 1) * ${channels * channels} + c;
        for (var i = 0; i < ${channels}; i++) {
          v += o[first + i] * weight${k}[taps + i * ${channels}];
        }
      }
    }
    m += max(v, 0.0);
  }`;

export const msBranchesConfig: tf.KernelConfig = {
  kernelName: MS_BRANCHES,
  backendName: WEBGPU,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { o } = inputs as { o: tf.TensorInfo };
    const dilations = (attrs as { dilations: number[] }).dilations;
    const channels = o.shape[3];
    return runPerItem(
      backend as WebGPUBackend,
      inputs as Record<string, tf.TensorInfo>,
      o.shape,
      tf.util.sizeFromShape(o.shape),
      `${MS_BRANCHES}_${channels}_${dilations.join('_')}`,
      `let h = uniforms.oShape.y;
       let w = uniforms.oShape.z;
       let c = index % ${channels};
       let cell = index / ${channels};
       let y = cell / w;
       let col = cell - y * w;
       var m = o[index];
       ${dilations.map((d, k) => branchSnippet(k, d, channels)).join('\n')}
       result[index] = m;`,
    );
  },
};
