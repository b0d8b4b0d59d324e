/**
 * `npm run bench`: speed and memory of the library in Node, per backend.
 *
 *   tsx scripts/bench/bench.ts [--backends wasm,cpu,webgpu] [--runs 20] [--model DIR] [--webgpu-flags A=1,B=true]
 *
 * Prints tables (among them the kernels one encode dispatches and where their time goes); the last line is `encode_ms_wasm=… match_ms_wasm=… consensus_pair_ms_wasm=… click_vs_no_consensus=… leaked_tensors=…` (a click with the consensus over one without). WebGPU runs
 * through Dawn (src/model/node/webgpu.ts: lavapipe unless `VK_DRIVER_FILES` names another Vulkan driver)
 * and gets its own table (`--runs` steady encodes) and last line,
 * `encode_ms_webgpu=… first_encode_ms=… kernels=… leaked_tensors=…`. `--webgpu-flags` sets tfjs WebGPU
 * flags over the model's own (`WEBGPU_FLAGS`), to tune them on a GPU.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName, Features, MatchOptions, MMNet, Point } from '../../src/model';
import { encodeMaps } from '../../src/model/encoder';
import { preprocess } from '../../src/model/image';
import { DEFAULT_SCALE } from '../../src/model/constants';
import { mapTensors, scoredRows } from '../../src/model/matching';
import { pairConsensus } from '../../src/model/consensus';
import { loadNodeModel, readRgb } from '../../src/model/node/io';
import { installNodeWebGPU } from '../../src/model/node/webgpu';
import { BUILT_MODEL_DIR, SHARED_DIR } from '../../src/model/testing/paths';
import { countKernels, kernelTimes } from '../../src/model/kernels/profile';

/** Multiply-accumulates of one 224×320 encode (trunk 9.2 + head 3.7 GMAC), as FLOPs. */
const ENCODE_GFLOP = 25.9;

const { values: args } = parseArgs({
  options: {
    backends: { type: 'string', default: 'wasm,cpu' },
    // Steady WebGPU encodes; a software adapter takes ~9 s each.
    runs: { type: 'string', default: '20' },
    // A built model folder other than public/models/ (e.g. on the GPU machine).
    model: { type: 'string' },
    'webgpu-flags': { type: 'string', default: '' },
  },
});
const webgpuRuns = Number(args.runs);
if (!(webgpuRuns >= 1)) throw new Error(`--runs must be a positive number, not ${args.runs}`);

/** "A=1,B=true" → { A: 1, B: true }. */
function parseFlags(list: string): Record<string, number | boolean> {
  const entries = list
    .split(',')
    .filter(Boolean)
    .map((kv) => {
      const [name, value] = kv.split('=');
      if (!name || value === undefined) throw new Error(`--webgpu-flags: "${kv}" is not NAME=value`);
      return [name, value === 'true' ? true : value === 'false' ? false : Number(value)] as const;
    });
  return Object.fromEntries(entries);
}
const webgpuFlags = parseFlags(args['webgpu-flags']);

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
  ['fused s3 without consensus', { mode: 'fused', scale: 3, consensus: false }],
  ['mmnet s3', { mode: 'mmnet', scale: 3 }],
  ['mmnet s1', { mode: 'mmnet', scale: 1 }],
  ['raw', { mode: 'raw' }],
  ['fused s3 + flip', { mode: 'fused', scale: 3, flip: true }],
];

/** Median ms of each query for one point and for the 20×14 grid; the mirrored maps are made first, untimed. */
async function timeQueries(model: MMNet, a: Features, b: Features, pointRuns: number, gridRuns: number) {
  const matchMs: Record<string, [number, number]> = {};
  await model.match(a, b, grid, { flip: true });
  for (const [name, options] of queries) {
    matchMs[name] = [
      await timeMs(pointRuns, () => model.match(a, b, [{ x: 160, y: 112 }], options)),
      await timeMs(gridRuns, () => model.match(a, b, grid, options)),
    ];
  }
  return matchMs;
}

/** Tensors left behind by `cycles` encode → match both ways → dispose cycles. */
async function leakedTensors(model: MMNet, a: Features, image: tf.Tensor3D, cycles: number): Promise<number> {
  const before = tf.memory().numTensors;
  for (let k = 0; k < cycles; k++) {
    const f = await model.encode(image);
    await model.match(a, f, [{ x: 50, y: 60 }], { heatmap: true });
    await model.match(f, a, grid, { mode: 'mmnet', scale: 1 });
    f.dispose();
  }
  return tf.memory().numTensors - before;
}

async function benchBackend(backend: BackendName) {
  // The pure-JS cpu backend is ~30× slower: fewer runs keep the bench within minutes.
  const slow = backend === 'cpu';
  const model: MMNet = await loadNodeModel(args.model ?? BUILT_MODEL_DIR, { backend });
  const [imageA, imageB] = fixtureImages();
  const a = await model.encode(imageA); // warm-up: kernels compiled, memory grown
  const b = await model.encode(imageB);

  const encodeMs = await timeMs(slow ? 2 : 7, async () => (await model.encode(imageA)).dispose());
  const { peakBytes, kernels } = await tf.profile(async () => (await model.encode(imageA)).dispose());
  const encodeOps = opTimes(kernels);

  // The first flipped match encodes both mirrored images; later ones reuse them.
  const fa = await model.encode(imageA);
  const fb = await model.encode(imageB);
  const t0 = performance.now();
  await model.match(fa, fb, [{ x: 100, y: 100 }], { flip: true });
  const flipEncodeMs = (performance.now() - t0) / 2;
  fa.dispose();
  fb.dispose();

  const matchMs = await timeQueries(model, a, b, slow ? 5 : 50, slow ? 2 : 10);
  const heatmapMs = await timeMs(slow ? 5 : 50, () => model.match(a, b, [{ x: 160, y: 112 }], { heatmap: true }));
  // A pair's consensus, as `match` computes it on the pair's first click (both ways, then cached).
  const consensusMs = await timeMs(slow ? 3 : 20, () => pairConsensus(a.maps, b.maps, b.flipped!, model.metadata.matching));
  const cycles = slow ? 2 : 20;
  const leaked = await leakedTensors(model, a, imageB, cycles);

  tf.dispose([imageA, imageB]);
  a.dispose();
  b.dispose();
  model.dispose();
  return { backend, encodeMs, flipEncodeMs, peakBytes, encodeOps, matchMs, heatmapMs, consensusMs, cycles, leaked };
}

/**
 * The kernels one profiled run dispatched, and their time by kernel name, slowest first. tf.profile also
 * lists each op that wraps a kernel (`fusedConv2d__op`), which would count it twice.
 */
function opTimes(kernels: { name: string; kernelTimeMs: unknown }[]) {
  const dispatched = kernels.filter((k) => !k.name.endsWith('__op'));
  const ms = new Map<string, number>();
  for (const k of dispatched) ms.set(k.name, (ms.get(k.name) ?? 0) + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0));
  return { count: dispatched.length, byName: [...ms].sort((x, y) => y[1] - x[1]) };
}

const fixtureImages = () => ['willow_a', 'willow_b'].map((n) => readRgb(join(SHARED_DIR, 'fixtures', `${n}_224x320.rgb`)));

/** Waits until every map of `f` is computed, reading back one value per map. */
async function readBack(f: Features): Promise<void> {
  const firsts = [...f.maps.head, f.maps.raw].map((m) => tf.slice(m.cells, [0, 0], [1, 1]));
  await Promise.all(firsts.map((t) => t.data()));
  tf.dispose(firsts);
}

/** Wall time of `f`, ms. */
async function elapsed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

async function adapterName(): Promise<string> {
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  const info = adapter?.info;
  return info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') : 'none';
}

/**
 * WebGPU: first and steady encode (each completed by a read-back), the JavaScript dispatch alone (until
 * `encode` returns its maps), dispatches and GPU time per encode, matches, tensors left.
 */
async function benchWebGPU(runs: number) {
  // Unquantised timestamps: Dawn otherwise rounds kernel times to 100 µs.
  installNodeWebGPU(['disable-dawn-features=timestamp_quantization']);
  const adapter = await adapterName();
  let model!: MMNet;
  const loadMs = await elapsed(
    async () => (model = await loadNodeModel(args.model ?? BUILT_MODEL_DIR, { backend: 'webgpu', webgpuFlags })),
  );
  const [imageA, imageB] = fixtureImages();
  let a!: Features;
  const firstEncodeMs = await elapsed(async () => readBack((a = await model.encode(imageA))));
  const b = await model.encode(imageB);
  await readBack(b);

  const encodeMs: number[] = [];
  const dispatchMs: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    const f = await model.encode(imageA);
    dispatchMs.push(performance.now() - t0);
    await readBack(f);
    encodeMs.push(performance.now() - t0);
    f.dispose();
  }

  const kernels = await countKernels(() => model.encode(imageA));
  await readBack(kernels.result);
  kernels.result.dispose();
  const input = preprocess(imageA);
  const gpu = await kernelTimes(() => tf.dispose(mapTensors(encodeMaps(model.weights, input))));
  input.dispose();
  // One click's rows at the app's default (fused, DEFAULT_SCALE): what runs on the GPU per match.
  const click = () => scoredRows(a.maps, b.maps, [{ x: 160, y: 112 }], DEFAULT_SCALE, 'fused');
  const matchKernels = await countKernels(click);
  matchKernels.result.dispose();
  const matchGpu = await kernelTimes(() => click().dispose());

  const matchMs = await timeQueries(model, a, b, Math.max(runs, 5), 3);
  const cycles = 2;
  const leaked = await leakedTensors(model, a, imageB, cycles);

  tf.dispose([imageA, imageB]);
  a.dispose();
  b.dispose();
  model.dispose();
  return { adapter, loadMs, firstEncodeMs, encodeMs, dispatchMs, kernels, gpu, matchKernels, matchGpu, matchMs, cycles, leaked };
}

const backends = args.backends.split(',') as BackendName[];
const results = [];
for (const backend of backends.filter((b) => b !== 'webgpu')) {
  process.stderr.write(`benchmarking ${backend}…\n`);
  results.push(await benchBackend(backend));
}
let webgpu: Awaited<ReturnType<typeof benchWebGPU>> | undefined;
if (backends.includes('webgpu')) {
  process.stderr.write(`benchmarking webgpu (${webgpuRuns} steady encodes)…\n`);
  webgpu = await benchWebGPU(webgpuRuns);
}

const f1 = (v: number) => v.toFixed(1);
if (results.length > 0) {
  console.log('\n| backend | encode ms (GFLOP/s) | flip: extra encode ms | peak MB | leaked tensors after N cycles |');
  console.log('|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.backend} | ${f1(r.encodeMs)} (${f1(ENCODE_GFLOP / (r.encodeMs / 1000))}) | ${f1(r.flipEncodeMs)} | ${f1(r.peakBytes / 2 ** 20)} | ${r.leaked} (N=${r.cycles}) |`,
    );
  }
  console.log('\n| backend | kernels per encode | kernel time by kernel (one profiled encode) |');
  console.log('|---|---|---|');
  for (const { backend, encodeOps } of results) {
    const total = encodeOps.byName.reduce((sum, [, ms]) => sum + ms, 0);
    const shares = encodeOps.byName.slice(0, 6).map(([name, ms]) => `${name} ${f1(ms)} ms (${f1((100 * ms) / total)} %)`);
    console.log(`| ${backend} | ${encodeOps.count} | ${shares.join(', ')} |`);
  }
  console.log('\n| backend | query | 1 point ms | 20×14 grid ms |');
  console.log('|---|---|---|---|');
  for (const r of results) {
    for (const [name, [one, all]] of Object.entries(r.matchMs)) console.log(`| ${r.backend} | ${name} | ${f1(one)} | ${f1(all)} |`);
    console.log(`| ${r.backend} | fused s3 + heat map | ${f1(r.heatmapMs)} | |`);
    console.log(`| ${r.backend} | consensus, once per pair | ${f1(r.consensusMs)} | |`);
  }
  const wasm = results.find((r) => r.backend === 'wasm');
  if (wasm) {
    const leaked = results.reduce((n, r) => n + r.leaked, 0);
    const click = wasm.matchMs['fused s3'][0];
    const ratio = click / wasm.matchMs['fused s3 without consensus'][0];
    console.log(
      `encode_ms_wasm=${f1(wasm.encodeMs)} match_ms_wasm=${click.toFixed(2)} consensus_pair_ms_wasm=${f1(wasm.consensusMs)} ` +
        `click_vs_no_consensus=${ratio.toFixed(2)} leaked_tensors=${leaked}`,
    );
  }
}

if (webgpu) {
  const w = webgpu;
  const byCount = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort((x, y) => y[1] - x[1])
      .map(([name, n]) => `${name} ${n}`)
      .join(', ');
  const slowest = (byShape: Record<string, { kernels: number; ms: number }>, n: number) =>
    Object.entries(byShape)
      .sort((x, y) => y[1].ms - x[1].ms)
      .slice(0, n)
      .map(([name, p]) => `| ${name} | ${p.kernels} | ${p.ms.toFixed(2)} |`);
  console.log(`\nWebGPU, adapter: ${w.adapter}${Object.keys(webgpuFlags).length ? `; flags ${args['webgpu-flags']}` : ''}`);
  console.log('\n| webgpu | ms |');
  console.log('|---|---|');
  console.log(`| model load (backend start + weights) | ${f1(w.loadMs)} |`);
  console.log(`| first encode after ready (+ read-back) | ${f1(w.firstEncodeMs)} |`);
  console.log(
    `| steady encode + read-back, median / min of ${w.encodeMs.length} | ${f1(median(w.encodeMs))} / ${f1(Math.min(...w.encodeMs))} |`,
  );
  console.log(`| of which encode() returning (JavaScript dispatch), median | ${f1(median(w.dispatchMs))} |`);
  if (w.gpu) {
    const top = Object.entries(w.gpu.byProgram).sort((x, y) => y[1].ms - x[1].ms);
    console.log(`| GPU time of one encode's kernels (timestamp queries) | ${f1(w.gpu.totalMs)} |`);
    for (const [name, p] of top) console.log(`| … ${name} (${p.kernels} kernels) | ${p.ms.toFixed(2)} |`);
  } else {
    console.log('| GPU time (timestamp queries) | not supported by this adapter |');
  }
  for (const [name, [one, all]] of Object.entries(w.matchMs))
    console.log(`| match ${name}: 1 point / 20×14 grid | ${f1(one)} / ${f1(all)} |`);
  console.log(`\nKernels (GPU dispatches) per encode: ${w.kernels.total} (${byCount(w.kernels.byProgram)})`);
  console.log(`Kernels per click (fused s${DEFAULT_SCALE} rows): ${w.matchKernels.total} (${byCount(w.matchKernels.byProgram)})`);
  if (w.gpu && w.matchGpu) {
    console.log(`\n| slowest kernels of an encode (program [output shape]) | dispatches | GPU ms |\n|---|---|---|`);
    console.log(slowest(w.gpu.byShape, 12).join('\n'));
    console.log(`\n| kernels of a click, ${f1(w.matchGpu.totalMs)} ms GPU in all | dispatches | GPU ms |\n|---|---|---|`);
    console.log(slowest(w.matchGpu.byShape, 8).join('\n'));
  }
  console.log(`Tensors left after ${w.cycles} encode/match/dispose cycles: ${w.leaked}`);
  console.log(
    `encode_ms_webgpu=${f1(median(w.encodeMs))} first_encode_ms=${f1(w.firstEncodeMs)} kernels=${w.kernels.total} leaked_tensors=${w.leaked}`,
  );
}
