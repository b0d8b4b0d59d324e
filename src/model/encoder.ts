import * as tf from '@tensorflow/tfjs-core';
import { BLOCK_UNITS, RAW_TAP } from './constants';
import { ScaleAccumulator } from './head';
import type { FeatureMaps, FlatMap } from './matching';
import { runTrunk } from './trunk';
import type { WeightMap } from './weights';

/** Unit-length vectors over the channel axis (PyTorch F.normalize, eps 1e-12). */
export const l2Normalize = (x: tf.Tensor4D): tf.Tensor4D => tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), 1e-12)));

const TRUNK_UNITS = BLOCK_UNITS.reduce((a, b) => a + b, 0);

/** [1, h, w, C] → both flat layouts. */
function flatten(x: tf.Tensor4D): FlatMap {
  const cells = tf.reshape(x, [x.shape[1] * x.shape[2], x.shape[3]]) as tf.Tensor2D;
  return { cells, channels: tf.transpose(cells) };
}

/**
 * The whole network on a preprocessed 1×224×320×3 input: trunk, head, and the normalised trunk
 * tap of the fused prior, all from one trunk pass. `mirrored`: the input is a horizontally flipped
 * image, so the maps are flipped back to line up with the original.
 */
export function encodeMaps(
  weights: WeightMap,
  input: tf.Tensor4D,
  { mirrored = false, onProgress }: { mirrored?: boolean; onProgress?: (fraction: number) => void } = {},
): FeatureMaps {
  const accumulator = new ScaleAccumulator(weights);
  const x = mirrored ? tf.reverse(input, 2) : input;
  let raw: tf.Tensor4D | undefined;
  let units = 0;
  try {
    runTrunk(weights, x, (name, tap) => {
      onProgress?.(++units / TRUNK_UNITS);
      accumulator.add(name, tap);
      if (name === RAW_TAP) raw = l2Normalize(tap);
    });
  } catch (e) {
    accumulator.dispose();
    raw?.dispose();
    throw e;
  } finally {
    if (x !== input) x.dispose();
  }
  const g = accumulator.finish();
  const flat = (x: tf.Tensor4D): FlatMap => {
    const map = tf.tidy(() => flatten(mirrored ? tf.reverse(x, 2) : x));
    x.dispose();
    return map;
  };
  return { head: g.map(flat), raw: flat(raw!) };
}
