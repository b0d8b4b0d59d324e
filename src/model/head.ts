import * as tf from '@tensorflow/tfjs-core';
import { MSBLOCK_DILATIONS, SCALES, type ScaleIndex } from './constants';
import { msBranches, scaleSum, weightAverage, type MSBranch } from './kernels';
import { weight, type WeightMap } from './weights';

/** Conv with PyTorch-style symmetric zero padding and bias; weights are HWIO in model.json. */
function conv(
  weights: WeightMap,
  name: string,
  x: tf.Tensor4D,
  pad: number,
  dilation = 1,
  activation: 'relu' | 'linear' = 'linear',
): tf.Tensor4D {
  return tf.fused.conv2d({
    x,
    filter: weight<tf.Rank.R4>(weights, `${name}.weight`),
    bias: weight(weights, `${name}.bias`),
    strides: 1,
    pad: pad === 0 ? 'valid' : pad,
    dilations: dilation,
    activation,
  });
}

/**
 * MSBlock of one trunk tap and its 1×1 projection to the matching channels, added to the sum of its
 * scale so far: 1×h×w×C → 1×h×w×21.
 */
export function msBlock(weights: WeightMap, tap: string, x: tf.Tensor4D, previous?: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const o = conv(weights, `ms.${tap}.conv`, x, 1, 1, 'relu');
    const branch = (k: 0 | 1 | 2): MSBranch => ({
      weight: weight<tf.Rank.R4>(weights, `ms.${tap}.conv${k + 1}.weight`),
      bias: weight<tf.Rank.R1>(weights, `ms.${tap}.conv${k + 1}.bias`),
      dilation: MSBLOCK_DILATIONS[k],
    });
    return scaleSum({
      m: msBranches(o, [branch(0), branch(1), branch(2)]),
      downWeight: weight<tf.Rank.R4>(weights, `down.${tap}.weight`),
      downBias: weight<tf.Rank.R1>(weights, `down.${tap}.bias`),
      previous,
    });
  });
}

/**
 * LocalAttention ("WeightAverage"): every cell re-weights its 3×3 neighbourhood by the cosine
 * similarity of θ and φ embeddings and adds the projected average back (SPEC §3).
 */
export function localAttention(weights: WeightMap, scale: ScaleIndex, x: tf.Tensor4D): tf.Tensor4D {
  const pointwise = (part: string) => ({
    weight: weight<tf.Rank.R4>(weights, `attn.${scale}.${part}.weight`),
    bias: weight<tf.Rank.R1>(weights, `attn.${scale}.${part}.bias`),
  });
  return weightAverage({ x, theta: pointwise('theta'), phi: pointwise('phi'), g: pointwise('g'), back: pointwise('back') });
}

/** Top-down pathway: G_4 = E_4; G_s = fuse_s([E_s, up_{s+1}(G_{s+1})]). Returns [G_1, G_2, G_3, G_4]. */
export function crossScale(weights: WeightMap, enhanced: readonly tf.Tensor4D[]): tf.Tensor4D[] {
  const out: tf.Tensor4D[] = new Array(4);
  out[3] = tf.clone(enhanced[3]);
  for (let s = 3; s >= 1; s--) {
    out[s - 1] = tf.tidy(() => {
      const coarse = out[s];
      const [n, h, w, c] = coarse.shape;
      const filter = weight<tf.Rank.R4>(weights, `up.${s + 1}.weight`);
      const up = tf.conv2dTranspose(coarse, filter, [n, 2 * h, 2 * w, c], 2, 'same');
      return conv(weights, `fuse.${s}`, tf.concat([enhanced[s - 1], up], -1), 1);
    });
  }
  return out;
}

/**
 * Accumulates Σ_t down_t(MSBlock_t(tap)) per scale as the trunk produces taps, so no tap outlives
 * its own MSBlock.
 */
export class ScaleAccumulator {
  private readonly sums = new Map<ScaleIndex, tf.Tensor4D>();
  private readonly scaleOfTap = new Map(SCALES.flatMap((s) => s.taps.map((t) => [t, s.index] as const)));

  constructor(private readonly weights: WeightMap) {}

  add(tap: string, x: tf.Tensor4D): void {
    const scale = this.scaleOfTap.get(tap);
    if (scale === undefined) return;
    const previous = this.sums.get(scale);
    this.sums.set(scale, msBlock(this.weights, tap, x, previous));
    previous?.dispose();
  }

  /** E_1…E_4 (intra-scale enhancement), then the top-down pathway: [G_1, …, G_4]. Disposes the sums. */
  finish(): tf.Tensor4D[] {
    const enhanced = SCALES.map((s) => {
      const sum = this.sums.get(s.index)!;
      const e = localAttention(this.weights, s.index, sum);
      sum.dispose();
      return e;
    });
    this.sums.clear();
    const g = crossScale(this.weights, enhanced);
    tf.dispose(enhanced);
    return g;
  }

  dispose(): void {
    tf.dispose([...this.sums.values()]);
    this.sums.clear();
  }
}
