import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { onWebGPU, runPerItem, WEBGPU } from './program';

/**
 * A click's scores in the fused and flip modes (SPEC §4b): the log-probabilities of its head rows, of
 * the mirrored images' head rows, and λ times those of the raw cosines sharpened by 1/τ, upsampled to the
 * head's grid, summed: `log_softmax(head) [+ log_softmax(flipped)] [+ λ·up(log_softmax(raw / τ))]`.
 */
export const FUSED_SCORES = 'MMNetFusedScores';

export interface FusedScoresInputs {
  /** [N, h·w], the head's coarse-to-fine rows. */
  head: tf.Tensor2D;
  /** [N, h·w], the same on the mirrored images. */
  flipped?: tf.Tensor2D;
  /** [N, (h/factor)·(w/factor)], cosine rows of the raw tap. */
  raw?: tf.Tensor2D;
}

export interface FusedScoresAttrs {
  /** The head's grid. */
  height: number;
  width: number;
  /** Head cells per raw cell along each side. */
  factor: number;
  lambda: number;
  tau: number;
}

/** Nearest-neighbour upsampling of rows on an h×w grid by an integer factor (cell i → floor(i / f)). */
export function upsampleRows(rows: tf.Tensor2D, grid: { height: number; width: number }, factor: number): tf.Tensor2D {
  if (factor === 1) return tf.clone(rows);
  return tf.tidy(() => {
    const n = rows.shape[0];
    const maps = tf.reshape(rows, [n, grid.height, grid.width, 1]) as tf.Tensor4D;
    // Without corner alignment or half-pixel centres, source = floor(target / f): exact for powers of two.
    const up = tf.image.resizeNearestNeighbor(maps, [grid.height * factor, grid.width * factor], false, false);
    return tf.reshape(up, [n, grid.height * factor * grid.width * factor]);
  });
}

/** The reference is ~15 kernels on GPU backends (each log-softmax alone is six); WebGPU runs one. */
export function fusedScores(inputs: FusedScoresInputs, attrs: FusedScoresAttrs): tf.Tensor2D {
  const { head, flipped, raw } = inputs;
  if (onWebGPU()) {
    const present = { head, ...(flipped && { flipped }), ...(raw && { raw }) };
    return tf.engine().runKernel(FUSED_SCORES, present, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  }
  const { height, width, factor, lambda, tau } = attrs;
  return tf.tidy(() => {
    const terms = [tf.logSoftmax(head)];
    if (flipped) terms.push(tf.logSoftmax(flipped));
    if (raw) {
      const prior = tf.logSoftmax(tf.div(raw, tau)) as tf.Tensor2D;
      terms.push(tf.mul(upsampleRows(prior, { height: height / factor, width: width / factor }, factor), lambda));
    }
    return tf.addN(terms) as tf.Tensor2D;
  });
}

/** WGSL: `lse_<name>`, the log-sum-exp of row `r` of `name` (`cells` long), each value times `scale`. */
const logSumExp = (name: string, cells: number, scale = '1.0') => `
  var max_${name} = -3.4e38;
  for (var k = 0; k < ${cells}; k++) { max_${name} = max(max_${name}, ${name}[r * ${cells} + k] * ${scale}); }
  var sum_${name} = 0.0;
  for (var k = 0; k < ${cells}; k++) { sum_${name} += exp(${name}[r * ${cells} + k] * ${scale} - max_${name}); }
  let lse_${name} = max_${name} + log(sum_${name});`;

/** WGSL float literal. */
const f32 = (v: number) => (Number.isInteger(v) ? `${v}.0` : `${v}`);

export const fusedScoresConfig: tf.KernelConfig = {
  kernelName: FUSED_SCORES,
  backendName: WEBGPU,
  // One invocation per row: a row is a few thousand cells at most, and a click has one row.
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { head, flipped, raw } = inputs as Record<string, tf.TensorInfo | undefined>;
    const { height, width, factor, lambda, tau } = attrs as unknown as FusedScoresAttrs;
    const [rows, cells] = head!.shape;
    const rawWidth = width / factor;
    const rawCells = rawWidth * (height / factor);
    const invTau = f32(1 / tau);
    const rawTerm = `${f32(lambda)} * (raw[r * ${rawCells} + (k / ${width} / ${factor}) * ${rawWidth} + (k % ${width}) / ${factor}] * ${invTau} - lse_raw)`;
    return runPerItem(
      backend as WebGPUBackend,
      inputs as Record<string, tf.TensorInfo>,
      [rows, cells],
      rows,
      `${FUSED_SCORES}_${cells}_${width}_${factor}_${lambda}_${tau}_${flipped ? 'flip' : ''}_${raw ? 'raw' : ''}`,
      `let r = index;
       ${logSumExp('head', cells)}
       ${flipped ? logSumExp('flipped', cells) : ''}
       ${raw ? logSumExp('raw', rawCells, invTau) : ''}
       for (var k = 0; k < ${cells}; k++) {
         result[r * ${cells} + k] = head[r * ${cells} + k] - lse_head
           ${flipped ? `+ flipped[r * ${cells} + k] - lse_flipped` : ''}
           ${raw ? `+ ${rawTerm}` : ''};
       }`,
    );
  },
};
