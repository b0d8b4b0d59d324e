/**
 * `npx tsx scripts/eval/select-taps.ts`: chooses the hyperpixel taps (src/model/hyperpixels.ts) by HPF's beam
 * search on the selection split (PF-WILLOW `val`, never `test`), scoring PCK@0.1 (ours) of the `hyper` mode with
 * the consensus on (votes from the same hyperpixels, HPF's clamp(cos, 0)^3 alone).
 *
 *   tsx scripts/eval/select-taps.ts [--beam 4] [--max-taps 10] [--tau 0.05] [--weight 3] [--sigma 0.5] [--model DIR]
 *
 * Candidates: every trunk unit's output and the head's G_1…G_4, each laid on the hyperpixel grid and normalised.
 * Every val image is encoded once, and every pair's cosines of every candidate computed once: a set's hyperpixel
 * cosines are the mean of its taps' (`concatHyperpixels`), so scoring a set costs no encode nor matMul.
 * Two-fold cross-validation by image: the val images are split by sub-class folder (alternate folders in
 * sorted order), so the two folds share no image and every val pair lies in one fold; the search runs on
 * one fold and is scored on the other, both ways. The shipped set is then searched on all val pairs.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { HYPERPIXEL_STRIDE, SCALE_INDICES } from '../../src/model/constants';
import { gaussianTaps, offsetBins, applySupport, supportRow, type PairConsensus } from '../../src/model/consensus';
import { encodeTaps } from '../../src/model/encoder';
import { headTapName, TRUNK_TAPS } from '../../src/model/hyperpixels';
import { preprocess, readImage, toInput, toOriginal } from '../../src/model/image';
import { bilinearTaps, gridOf, mapTensors, peakPoint, refinedPeak } from '../../src/model/matching';
import { loadNodeModel } from '../../src/model/node/io';
import { BUILT_MODEL_DIR } from '../../src/model/testing/paths';
import { boxErrors, progressLog, queriesOf, readWillow, readWillowImage, splitPairs, type Willow } from './willow';

const { values: args } = parseArgs({
  options: {
    beam: { type: 'string', default: '4' },
    'max-taps': { type: 'string', default: '10' },
    tau: { type: 'string', default: '0.05' },
    weight: { type: 'string', default: '3' },
    sigma: { type: 'string', default: '0.5' },
    model: { type: 'string' },
  },
});
const BEAM = Number(args.beam);
const MAX_TAPS = Number(args['max-taps']);
const TAU = Number(args.tau);
const WEIGHT = Number(args.weight);
const ALPHA = 0.1;

const CANDIDATES = [...TRUNK_TAPS, ...SCALE_INDICES.map(headTapName)];
const grid = gridOf(HYPERPIXEL_STRIDE);
const CELLS = grid.height * grid.width;
const progress = progressLog();

const willow = readWillow();
type Pair = Willow['pairs'][number];
const pairs = splitPairs(willow, 'val');
const model = await loadNodeModel(args.model ?? BUILT_MODEL_DIR);
const cosineExponent = model.metadata.matching.cosineExponent;

/** Every candidate of an image, on the hyperpixel grid and normalised: [cells, C] each, as tensors. */
async function candidateTaps(name: string): Promise<tf.Tensor2D[]> {
  const { pixels } = await readImage(readWillowImage(willow, name));
  const input = preprocess(pixels);
  pixels.dispose();
  const { maps, taps } = encodeTaps(model.weights, input, CANDIDATES);
  tf.dispose([input, ...mapTensors(maps)]);
  return taps.map((t) => {
    const flat = tf.reshape(t, [CELLS, t.shape[3]]) as tf.Tensor2D;
    t.dispose();
    return flat;
  });
}

/** cosines.get(pair)[c]: the candidate c's cosines of every source cell with every target cell, [S·T]. */
const cosines = new Map<Pair, Float32Array[]>();
{
  const names = [...new Set(pairs.flatMap((p) => [p.source, p.target]))];
  const taps = new Map<string, tf.Tensor2D[]>();
  for (const name of names) taps.set(name, await candidateTaps(name));
  progress(`encoded ${names.length} images, ${CANDIDATES.length} candidate taps each`);
  for (const pair of pairs) {
    const [s, t] = [taps.get(pair.source)!, taps.get(pair.target)!];
    cosines.set(
      pair,
      s.map((source, c) => {
        const product = tf.matMul(source, t[c], false, true);
        const values = product.dataSync() as Float32Array;
        product.dispose();
        return values;
      }),
    );
  }
  taps.forEach((t) => tf.dispose(t));
  progress(`cosines of ${pairs.length} pairs`);
}

const bins = offsetBins(grid);
/** Bin of every (source, target) cell pair, row-major. */
const binOf = Int32Array.from({ length: CELLS * CELLS }, (_, k) => {
  const [s, t] = [Math.floor(k / CELLS), k % CELLS];
  return (Math.floor(t / grid.width) - Math.floor(s / grid.width) + grid.height - 1) * bins.width + ((t % grid.width) - (s % grid.width) + grid.width - 1);
});
const taps = gaussianTaps(Number(args.sigma));

/**
 * The consensus of HPF's votes on cosines [S·T], as `pairConsensus` computes it with the hyperpixels voting and
 * `fusedExponent` 0 and no transport, in plain loops: the search scores thousands of sets, and the tensor path costs more per pair.
 */
function consensusOf(cos: Float32Array): PairConsensus {
  const hist = new Float32Array(bins.height * bins.width);
  for (let k = 0; k < cos.length; k++) if (cos[k] > 0) hist[binOf[k]] += cos[k] ** cosineExponent;
  const r = (taps.length - 1) / 2;
  const smooth = (from: Float32Array, dy: number, dx: number) => {
    const out = new Float32Array(from.length);
    for (let y = 0; y < bins.height; y++)
      for (let x = 0; x < bins.width; x++)
        for (let k = -r; k <= r; k++) {
          const [yy, xx] = [y + k * dy, x + k * dx];
          if (yy >= 0 && yy < bins.height && xx >= 0 && xx < bins.width) out[y * bins.width + x] += taps[k + r] * from[yy * bins.width + xx];
        }
    return out;
  };
  const data = smooth(smooth(hist, 1, 0), 0, 1);
  const peak = data.reduce((a, b) => Math.max(a, b), 0);
  const histogram = { data: data.map((v) => v / peak), peak, explained: 0, targetPrior: new Float32Array(CELLS) };
  return { plain: histogram, mirrored: histogram, grid };
}

/** Correct keypoints of a pair at α = ALPHA (ours) from a set's mean cosines. */
function pairCorrect(pair: Pair, cos: Float32Array): number {
  const consensus = consensusOf(cos);
  const source = willow.images[pair.source];
  const target = willow.images[pair.target];
  const row = new Float32Array(CELLS);
  const support = new Float32Array(CELLS);
  const predictions = queriesOf(willow, pair).map((p) => {
    const q = toInput(p, source);
    const { index, weight } = bilinearTaps(q, grid);
    row.fill(0);
    index.forEach((s, k) => {
      for (let t = 0; t < CELLS; t++) row[t] += (weight[k] * cos[s * CELLS + t]) / TAU;
    });
    applySupport(row, 0, supportRow(consensus, q, grid, false, support), WEIGHT, 1);
    return toOriginal(peakPoint(refinedPeak(row, grid), grid.stride), target);
  });
  return boxErrors(target.keypoints, predictions).filter((e) => e <= ALPHA).length;
}

/** PCK@ALPHA (percent) of a set of candidate indices on some pairs. */
function score(set: readonly number[], on: readonly Pair[]): number {
  let correct = 0;
  let total = 0;
  const mean = new Float32Array(CELLS * CELLS);
  for (const pair of on) {
    mean.fill(0);
    for (const c of set) {
      const cos = cosines.get(pair)![c];
      for (let k = 0; k < mean.length; k++) mean[k] += cos[k] / set.length;
    }
    correct += pairCorrect(pair, mean);
    total += willow.images[pair.source].keypoints.length;
  }
  return (100 * correct) / total;
}

const label = (set: readonly number[]) => set.map((c) => CANDIDATES[c]).join(',');

/** HPF's beam search: grow each of the best `BEAM` sets by one tap, keep the best `BEAM`, until no set improves. */
function beamSearch(on: readonly Pair[], name: string): { set: number[]; score: number } {
  let beam: { set: number[]; score: number }[] = [{ set: [], score: -Infinity }];
  let best = beam[0];
  for (let size = 1; size <= MAX_TAPS; size++) {
    const seen = new Set<string>();
    const grown: typeof beam = [];
    for (const { set } of beam)
      for (let c = 0; c < CANDIDATES.length; c++) {
        if (set.includes(c)) continue;
        const next = [...set, c].sort((a, b) => a - b);
        if (seen.has(next.join())) continue;
        seen.add(next.join());
        grown.push({ set: next, score: score(next, on) });
      }
    beam = grown.sort((a, b) => b.score - a.score).slice(0, BEAM);
    progress(`${name}: ${size} taps: ${beam.map((b) => `${b.score.toFixed(2)} [${label(b.set)}]`).join(' | ')}`);
    if (beam[0].score <= best.score) break;
    best = beam[0];
  }
  return best;
}

const folder = (pair: Pair) => pair.source.split('/')[0];
const folders = [...new Set(pairs.map(folder))].sort();
const folds = [0, 1].map((f) => pairs.filter((p) => folders.indexOf(folder(p)) % 2 === f));
const keypoints = (on: readonly Pair[]) => on.reduce((n, p) => n + willow.images[p.source].keypoints.length, 0);
const rawTap = [CANDIDATES.indexOf(model.metadata.rawTap)];

console.log(
  `PF-WILLOW val, ${pairs.length} pairs; hyper mode with the consensus (τ ${TAU}, weight ${WEIGHT}, σ ${args.sigma}); ` +
    `beam ${BEAM}; PCK@${ALPHA} ours. Folds: ${folds.map((f, k) => `${k}: ${[...new Set(f.map(folder))].join(' ')} (${f.length} pairs)`).join('; ')}`,
);
let heldOut = 0;
for (const [k, fold] of folds.entries()) {
  const other = folds[1 - k];
  const { set, score: own } = beamSearch(fold, `fold ${k}`);
  const held = score(set, other);
  heldOut += (held * keypoints(other)) / keypoints(pairs);
  console.log(
    `fold ${k}: searched ${own.toFixed(2)} [${label(set)}] → fold ${1 - k} ${held.toFixed(2)} (${model.metadata.rawTap} alone: ${score(rawTap, other).toFixed(2)})`,
  );
}
console.log(`two-fold CV (held-out folds): ${heldOut.toFixed(2)}; ${model.metadata.rawTap} alone: ${score(rawTap, pairs).toFixed(2)}`);
const chosen = beamSearch(pairs, 'all val');
console.log(`chosen on all val pairs: ${chosen.score.toFixed(2)} ${JSON.stringify(chosen.set.map((c) => CANDIDATES[c]))}`);
model.dispose();
