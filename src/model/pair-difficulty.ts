/**
 * How hard a pair is as a whole, computed once per pair: confidence signals that tell an easy pair's
 * matches from a hard pair's however sharp their own rows are (`MatchSignals.mutualRate`, `bestCosine`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { cellCosines } from './consensus';
import { cellFusedRows, type FeatureMaps } from './matching';

export interface PairDifficulty {
  /** The share of the source's trunk cells whose best target cell picks them back. */
  mutualRate: number;
  /** The mean over the source's trunk cells of their best cosine in the target. */
  bestCosine: number;
  meanEntropy: number;
}

/** The pair's difficulty from the normalised trunk taps (one cosine product, one readback). */
export async function pairDifficulty(source: FeatureMaps, target: FeatureMaps): Promise<PairDifficulty> {
  const stats = tf.tidy(() => {
    const cosines = cellCosines(source.raw, target.raw); // [S, T]
    const forward = tf.argMax(cosines, 1); // [S]: each source cell's best target cell
    const backward = tf.argMax(cosines, 0); // [T]: each target cell's best source cell
    const back = tf.gather(backward, forward); // [S]
    const mutual = tf.mean(tf.cast(tf.equal(back, tf.range(0, back.shape[0], 1, 'int32')), 'float32'));
    const logp = tf.logSoftmax(cellFusedRows(source, target, cosines));
    const entropy = tf.div(tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)), Math.log(cosines.shape[1] as number));
    return tf.stack([mutual, tf.mean(tf.max(cosines, 1)), tf.mean(entropy)]);
  });
  const [mutualRate, bestCosine, meanEntropy] = await stats.data();
  stats.dispose();
  return { mutualRate, bestCosine, meanEntropy };
}
