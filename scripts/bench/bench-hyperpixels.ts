/**
 * `npx tsx scripts/bench/bench-hyperpixels.ts`: what hyperpixels cost on wasm (Node), against today's encode
 * in the same process and under the same load: encodes with and without them alternate.
 *
 *   tsx scripts/bench/bench-hyperpixels.ts [--runs 5] [--taps a,b,…] [--model DIR]
 *
 * `--taps`: other taps than `metadata.matching.hyperpixels.taps`. Prints the median encode with and without
 * hyperpixels, their bytes per image, a click (one point) of `hyper` with the consensus against the default's,
 * and the pair's consensus with the hyperpixels voting; the last line is
 * `encode_ms=… hyper_encode_ms=… ratio=… hyper_mib=… click_ms=… default_click_ms=… consensus_pair_ms=… leaked_tensors=…`.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type { Features, MatchOptions } from '../../src/model';
import { pairConsensus } from '../../src/model/consensus';
import { loadNodeModel, readRgb } from '../../src/model/node/io';
import { BUILT_MODEL_DIR, SHARED_DIR } from '../../src/model/testing/paths';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, taps: { type: 'string' }, model: { type: 'string' } },
});
const runs = Number(args.runs);
const model = await loadNodeModel(args.model ?? BUILT_MODEL_DIR);
const constants = model.metadata.matching;
if (args.taps) constants.hyperpixels = { tau: 0.05, votes: true, ...constants.hyperpixels, taps: args.taps.split(',') };
if (!constants.hyperpixels) throw new Error('no hyperpixel taps: pass --taps or build a model whose matching.json names them');

const fixture = (name: string) => readRgb(join(SHARED_DIR, 'fixtures', `${name}_224x320.rgb`));
const [imageA, imageB] = [fixture('willow_a'), fixture('willow_b')];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const elapsed = async (f: () => Promise<unknown>) => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

const before = tf.memory().numTensors;
(await model.encode(imageA, { hyperpixels: true })).dispose(); // warm-up
const plainMs: number[] = [];
const hyperMs: number[] = [];
for (let k = 0; k < runs; k++) {
  plainMs.push(await elapsed(async () => (await model.encode(imageA)).dispose()));
  hyperMs.push(await elapsed(async () => (await model.encode(imageA, { hyperpixels: true })).dispose()));
}
const [a, b] = [await model.encode(imageA, { hyperpixels: true }), await model.encode(imageB, { hyperpixels: true })];
const hyperBytes = 2 * a.maps.hyper!.cells.size * 4; // both layouts
const clickMs = async (source: Features, target: Features, options: MatchOptions) => {
  await model.match(source, target, [{ x: 100, y: 80 }], options); // the pair's consensus, once
  const times: number[] = [];
  for (let k = 0; k < 20; k++) times.push(await elapsed(() => model.match(source, target, [{ x: 160, y: 112 }], options)));
  return median(times);
};
const click = await clickMs(a, b, { mode: 'hyper', consensus: true });
const defaultClick = await clickMs(b, a, {});
// The pair's consensus with the hyperpixels voting, as `match` computes it on a pair's first click (each way).
const consensusTimes: number[] = [];
for (let k = 0; k < runs; k++) consensusTimes.push(await elapsed(() => pairConsensus(a.maps, b.maps, b.maps, constants, (m) => m.hyper!)));
const consensusMs = median(consensusTimes);
a.dispose();
b.dispose();
const leaked = tf.memory().numTensors - before;
const encode = median(plainMs);
const hyper = median(hyperMs);
console.log(`taps ${constants.hyperpixels.taps.join(',')}; wasm, ${runs} alternating encodes each (median)`);
console.log(
  `encode_ms=${encode.toFixed(1)} hyper_encode_ms=${hyper.toFixed(1)} ratio=${(hyper / encode).toFixed(3)} ` +
    `hyper_mib=${(hyperBytes / 2 ** 20).toFixed(1)} click_ms=${click.toFixed(2)} default_click_ms=${defaultClick.toFixed(2)} ` +
    `consensus_pair_ms=${consensusMs.toFixed(1)} leaked_tensors=${leaked}`,
);
tf.dispose([imageA, imageB]);
model.dispose();
