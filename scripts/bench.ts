/**
 * `npm run bench`: speed and memory of the library in Node, per backend.
 *
 *   tsx scripts/bench.ts [--backends wasm,cpu]
 *
 * Prints a table; the last line is `encode_ms_wasm=… match_ms_wasm=… leaked_tensors=…`.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName, MatchOptions, MMNet, Point } from '../src/model';
import { loadNodeModel, readRgb } from './node-io';
import { SHARED_DIR } from './paths';

/** Multiply-accumulates of one 224×320 encode (trunk 9.2 + head 3.7 GMAC), as FLOPs. */
const ENCODE_GFLOP = 25.9;

const { values: args } = parseArgs({ options: { backends: { type: 'string', default: 'wasm,cpu' } } });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeMs(runs: number, f: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return median(times);
}

const grid: Point[] = Array.from({ length: 14 * 20 }, (_, k) => ({ x: (k % 20) * 16 + 8, y: Math.floor(k / 20) * 16 + 8 }));
const queries: [string, MatchOptions][] = [
  ['fused s3', { mode: 'fused', scale: 3 }],
  ['mmnet s3', { mode: 'mmnet', scale: 3 }],
  ['mmnet s1', { mode: 'mmnet', scale: 1 }],
  ['raw', { mode: 'raw' }],
  ['fused s3 + flip', { mode: 'fused', scale: 3, flip: true }],
];

async function benchBackend(backend: BackendName) {
  // The pure-JS cpu backend is ~30× slower: fewer runs keep the bench within minutes.
  const slow = backend === 'cpu';
  const model: MMNet = await loadNodeModel(undefined, { backend });
  const [imageA, imageB] = ['willow_a', 'willow_b'].map((n) => readRgb(join(SHARED_DIR, 'fixtures', `${n}_224x320.rgb`)));
  const a = await model.encode(imageA); // warm-up: kernels compiled, memory grown
  const b = await model.encode(imageB);

  const encodeMs = await timeMs(slow ? 2 : 7, async () => (await model.encode(imageA)).dispose());
  const { peakBytes } = await tf.profile(async () => (await model.encode(imageA)).dispose());

  // The first flipped match encodes both mirrored images; later ones reuse them.
  const fa = await model.encode(imageA);
  const fb = await model.encode(imageB);
  const t0 = performance.now();
  await model.match(fa, fb, [{ x: 100, y: 100 }], { flip: true });
  const flipEncodeMs = (performance.now() - t0) / 2;
  fa.dispose();
  fb.dispose();

  const matchMs: Record<string, [number, number]> = {};
  await model.match(a, b, grid, { flip: true }); // mirrored maps of a and b, outside the timings
  for (const [name, options] of queries) {
    matchMs[name] = [
      await timeMs(slow ? 5 : 50, () => model.match(a, b, [{ x: 160, y: 112 }], options)),
      await timeMs(slow ? 2 : 10, () => model.match(a, b, grid, options)),
    ];
  }
  const heatmapMs = await timeMs(slow ? 5 : 50, () => model.match(a, b, [{ x: 160, y: 112 }], { heatmap: true }));

  const cycles = slow ? 2 : 20;
  const before = tf.memory().numTensors;
  for (let k = 0; k < cycles; k++) {
    const f = await model.encode(imageB);
    await model.match(a, f, [{ x: 50, y: 60 }], { heatmap: true });
    await model.match(f, a, grid, { mode: 'mmnet', scale: 1 });
    f.dispose();
  }
  const leaked = tf.memory().numTensors - before;

  tf.dispose([imageA, imageB]);
  a.dispose();
  b.dispose();
  model.dispose();
  return { backend, encodeMs, flipEncodeMs, peakBytes, matchMs, heatmapMs, cycles, leaked };
}

const results = [];
for (const backend of args.backends.split(',') as BackendName[]) {
  process.stderr.write(`benchmarking ${backend}…\n`);
  results.push(await benchBackend(backend));
}

const f1 = (v: number) => v.toFixed(1);
console.log('\n| backend | encode ms (GFLOP/s) | flip: extra encode ms | peak MB | leaked tensors after N cycles |');
console.log('|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.backend} | ${f1(r.encodeMs)} (${f1(ENCODE_GFLOP / (r.encodeMs / 1000))}) | ${f1(r.flipEncodeMs)} | ${f1(r.peakBytes / 2 ** 20)} | ${r.leaked} (N=${r.cycles}) |`);
}
console.log('\n| backend | query | 1 point ms | 20×14 grid ms |');
console.log('|---|---|---|---|');
for (const r of results) {
  for (const [name, [one, all]] of Object.entries(r.matchMs)) console.log(`| ${r.backend} | ${name} | ${f1(one)} | ${f1(all)} |`);
  console.log(`| ${r.backend} | fused s3 + heat map | ${f1(r.heatmapMs)} | |`);
}
const wasm = results.find((r) => r.backend === 'wasm');
if (wasm) {
  const leaked = results.reduce((n, r) => n + r.leaked, 0);
  console.log(`encode_ms_wasm=${f1(wasm.encodeMs)} match_ms_wasm=${wasm.matchMs['fused s3'][0].toFixed(2)} leaked_tensors=${leaked}`);
}
