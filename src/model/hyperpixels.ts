/**
 * Hyperpixels (HPF, Min et al., ICCV 2019): several trunk taps (and, allowed, the head's G_s maps) laid on one
 * grid, each L2-normalised per cell, concatenated. The taps are chosen by a beam search on the selection
 * split (scripts/eval/select-taps.ts) and shipped in `metadata.matching.hyperpixels`.
 *
 * They live on the consensus's grid (`HYPERPIXEL_STRIDE`, 16): the pair's votes can then be cast from them, and
 * one image's hyperpixels stay far under the 64 MiB budget (280 cells; a stride-8 grid would hold 4×).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BLOCK_UNITS, SCALE_INDICES, type ScaleIndex } from './constants';
import type { Grid } from './matching';
import { MMNetError } from './errors';
import { tapName } from './trunk';
import { l2Normalize } from './unit-vectors';
import type { ModelMetadata } from './weights';

/** What `metadata.matching.hyperpixels` ships: the taps, and how the `hyper` mode sharpens their cosines. */
export interface HyperpixelConstants {
  /** Trunk taps (`block{b}_unit{u}`) and head maps (`headTapName`), in trunk order. */
  taps: string[];
  /** The `hyper` mode's rows are cosine / tau (logits). */
  tau: number;
  /** The pair's consensus casts its votes from the hyperpixels' cosines (else from the trunk prior's). */
  votes: boolean;
}

/** A head map G_s as a hyperpixel tap. */
export const headTapName = (scale: ScaleIndex) => `G${scale}`;

/** Every unit output of the trunk, in trunk order: the search's candidates besides the head maps. */
export const TRUNK_TAPS: readonly string[] = BLOCK_UNITS.flatMap((units, b) =>
  Array.from({ length: units }, (_, u) => tapName(b + 1, u + 1)),
);

/** The scale of a head tap's name, or undefined for a trunk tap. */
export const headTapScale = (name: string): ScaleIndex | undefined => SCALE_INDICES.find((s) => headTapName(s) === name);

/** A name `encode` can build hyperpixels from. */
export const isHyperpixelTap = (name: string) => TRUNK_TAPS.includes(name) || headTapScale(name) !== undefined;

/**
 * A tap [1, h, w, C] laid on `grid` and normalised per cell: averaged over the cells each grid cell covers when
 * finer (the grid's cells are whole blocks of the tap's), bilinear with half-pixel centres when coarser.
 */
export function tapOnGrid(tap: tf.Tensor4D, grid: Grid): tf.Tensor4D {
  return tf.tidy(() => {
    const [, height, width] = tap.shape;
    if (height % grid.height === 0 && width % grid.width === 0) {
      const block = height / grid.height;
      return l2Normalize(block === 1 ? tap : tf.avgPool(tap, block, block, 'valid'));
    }
    return l2Normalize(tf.image.resizeBilinear(tap, [grid.height, grid.width], false, true));
  });
}

/**
 * Taps already on one grid and normalised (`tapOnGrid`), concatenated over channels, each scaled by 1/√k: a
 * hyperpixel has unit length, and the dot product of two is the mean of their taps' cosines.
 */
export const concatHyperpixels = (taps: readonly tf.Tensor4D[]): tf.Tensor4D =>
  tf.tidy(() => tf.mul(taps.length === 1 ? taps[0] : tf.concat([...taps], 3), 1 / Math.sqrt(taps.length)));

/** The taps of a model's hyperpixels (`metadata.matching.hyperpixels`), for `encode(…, { hyperpixels: true })`. */
export function shippedHyperpixelTaps(metadata: ModelMetadata): readonly string[] {
  const taps = metadata.matching.hyperpixels?.taps;
  if (!taps) throw new MMNetError('bad-argument', 'this model ships no hyperpixel taps (metadata.matching.hyperpixels)');
  return taps;
}
