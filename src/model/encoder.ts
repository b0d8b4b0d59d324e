import * as tf from '@tensorflow/tfjs-core';
import { BLOCK_UNITS, HYPERPIXEL_STRIDE, RAW_TAP } from './constants';
import { ScaleAccumulator } from './head';
import { MMNetError } from './errors';
import { concatHyperpixels, headTapScale, isHyperpixelTap, l2Normalize, tapOnGrid } from './hyperpixels';
import { gridOf, type FeatureMaps, type FlatMap } from './matching';
import { runTrunk } from './trunk';
import type { WeightMap } from './weights';

const TRUNK_UNITS = BLOCK_UNITS.reduce((a, b) => a + b, 0);

/** [1, h, w, C] → both flat layouts. */
function flatten(x: tf.Tensor4D): FlatMap {
  const cells = tf.reshape(x, [x.shape[1] * x.shape[2], x.shape[3]]) as tf.Tensor2D;
  return { cells, channels: tf.transpose(cells) };
}

export interface EncodeOptions {
  /** The input is a horizontally flipped image, so the maps are flipped back to line up with the original. */
  mirrored?: boolean;
  onProgress?: (fraction: number) => void;
  /** Also build hyperpixels (`FeatureMaps.hyper`) from these taps (src/model/hyperpixels.ts). */
  hyperTaps?: readonly string[];
}

/**
 * The whole network on a preprocessed 1×224×320×3 input: trunk, head, and the normalised trunk
 * tap of the fused prior, all from one trunk pass; with `hyperTaps`, the hyperpixels too.
 */
export function encodeMaps(
  weights: WeightMap,
  input: tf.Tensor4D,
  { mirrored = false, onProgress, hyperTaps }: EncodeOptions = {},
): FeatureMaps {
  const { maps, taps } = encodeTaps(weights, input, hyperTaps ?? [], { mirrored, onProgress });
  if (!hyperTaps) return maps;
  const hyper = tf.tidy(() => flatten(unmirror(concatHyperpixels(taps), mirrored)));
  tf.dispose(taps);
  return { ...maps, hyper };
}

const unmirror = (x: tf.Tensor4D, mirrored: boolean) => (mirrored ? tf.reverse(x, 2) : x);

/**
 * `encodeMaps` without hyperpixels, plus the named taps (trunk units or head maps, `headTapName`) each laid on
 * the hyperpixel grid and normalised (`tapOnGrid`), in the order named, still mirrored when the input is.
 */
export function encodeTaps(
  weights: WeightMap,
  input: tf.Tensor4D,
  tapNames: readonly string[],
  { mirrored = false, onProgress }: Omit<EncodeOptions, 'hyperTaps'> = {},
): { maps: FeatureMaps; taps: tf.Tensor4D[] } {
  const unknown = tapNames.filter((name) => !isHyperpixelTap(name));
  if (unknown.length > 0) throw new MMNetError('bad-argument', `no such tap: ${unknown.join(', ')}`);
  const accumulator = new ScaleAccumulator(weights);
  const grid = gridOf(HYPERPIXEL_STRIDE);
  const x = mirrored ? tf.reverse(input, 2) : input;
  let raw: tf.Tensor4D | undefined;
  const kept = new Map<string, tf.Tensor4D>();
  let units = 0;
  try {
    runTrunk(weights, x, (name, tap) => {
      onProgress?.(++units / TRUNK_UNITS);
      accumulator.add(name, tap);
      if (name === RAW_TAP) raw = l2Normalize(tap);
      if (tapNames.includes(name)) kept.set(name, tapOnGrid(tap, grid));
    });
  } catch (e) {
    accumulator.dispose();
    tf.dispose([raw, ...kept.values()].filter((t) => t !== undefined));
    throw e;
  } finally {
    if (x !== input) x.dispose();
  }
  const g = accumulator.finish();
  for (const name of tapNames) {
    const scale = headTapScale(name);
    if (scale) kept.set(name, tapOnGrid(g[scale - 1], grid));
  }
  const flat = (x: tf.Tensor4D): FlatMap => {
    const map = tf.tidy(() => flatten(unmirror(x, mirrored)));
    x.dispose();
    return map;
  };
  return { maps: { head: g.map(flat), raw: flat(raw!) }, taps: tapNames.map((name) => kept.get(name)!) };
}
