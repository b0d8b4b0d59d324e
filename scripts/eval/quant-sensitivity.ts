/**
 * Which filters can go to 4 bits: stores one group of layers in 4 bits (scripts/build/quantize.ts, as
 * `npm run models` would), the rest float16, and measures the relative error
 * ‖G_s − G_s(float16)‖ / ‖G_s(float16)‖ of G_1…G_4 and of the raw tap on Caltech-101 calibration photos
 * (never PF-WILLOW, the evaluation set). Also prints whole schemes. The `mixed` plan in
 * scripts/build/quantize.ts comes from this table.
 *
 *   npx tsx scripts/eval/quant-sensitivity.ts [--model DIR (a float16 build)] [--photos N]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import jpeg from 'jpeg-js';
import { selectBackend } from '../../src/model/backend';
import { encodeMaps } from '../../src/model/encoder';
import { preprocess, readImage } from '../../src/model/image';
import { mapTensors, type FeatureMaps } from '../../src/model/matching';
import { dequantize, storedBytes } from '../../src/model/quantization';
import { loadWeights, type WeightMap } from '../../src/model/weights';
import { fileFetch, modelUrl } from '../../src/model/node/io';
import { BUILT_MODEL_DIR, SHARED_DIR } from '../../src/model/testing/paths';
import type { Scheme } from '../../src/model/quantization';
import { quantize, storageFor } from '../build/quantize';

const { values: args } = parseArgs({ options: { model: { type: 'string' }, photos: { type: 'string', default: '8' } } });
const CALTECH = join(SHARED_DIR, 'datasets', 'caltech101-subset');

/** Layer groups, by weight name. */
const GROUPS: [label: string, pattern: RegExp][] = [
  ['trunk block1 (scale 1–2 taps)', /^block1_/],
  ['trunk block2 (scale 2–3 taps)', /^block2_/],
  ['trunk block3 units 1–8', /^block3_unit_[1-8]_/],
  ['trunk block3 units 9–16', /^block3_unit_(9|1[0-6])_/],
  ['trunk block3 units 17–23', /^block3_unit_(1[7-9]|2[0-3])_/],
  ['head MS blocks on block1 taps', /^ms\.block1_/],
  ['head MS blocks on block2 taps', /^ms\.block2_/],
  ['head MS blocks on block3 taps', /^ms\.block3_/],
];

/** Calibration photos: the first photo of every k-th category, so that N photos span the classes. */
function calibrationPhotos(n: number): string[] {
  const categories = readdirSync(CALTECH, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const step = Math.floor(categories.length / n);
  return Array.from({ length: n }, (_, k) => join(CALTECH, categories[k * step], '000.jpg'));
}

async function encodePhoto(weights: WeightMap, path: string): Promise<FeatureMaps> {
  const { data, width, height } = jpeg.decode(readFileSync(path), { useTArray: true });
  const { pixels } = await readImage({ data, width, height });
  const input = preprocess(pixels);
  pixels.dispose();
  const maps = encodeMaps(weights, input);
  input.dispose();
  return maps;
}

/** Relative Frobenius error of each map (G_1…G_4, raw). */
async function relativeErrors(ours: FeatureMaps, ref: FeatureMaps): Promise<number[]> {
  const pairs = [...ours.head.map((m, s) => [m.cells, ref.head[s].cells]), [ours.raw.cells, ref.raw.cells]];
  return Promise.all(
    pairs.map(async ([a, b]) => {
      const ratio = tf.tidy(() => tf.div(tf.norm(tf.sub(a, b)), tf.norm(b)));
      const value = (await ratio.data())[0];
      ratio.dispose();
      return value;
    }),
  );
}

/** The weights with every filter `pick` selects stored as `scheme` would, decoded back. */
async function withStorage(weights: WeightMap, scheme: Scheme, pick: (name: string) => boolean): Promise<{ weights: WeightMap; replaced: tf.Tensor[]; bytes: number }> {
  const replaced: Record<string, tf.Tensor> = {};
  let bytes = 0;
  for (const [name, t] of Object.entries(weights)) {
    const storage = storageFor(scheme, name, t.shape);
    bytes += storedBytes(t.shape, pick(name) ? storage : { dtype: 'float16' });
    if (!pick(name) || storage.dtype === 'float16') continue;
    const values = (await t.data()) as Float32Array;
    replaced[name] = tf.tensor(dequantize(quantize(values, t.shape, storage), t.shape, storage), t.shape);
  }
  return { weights: { ...weights, ...replaced }, replaced: Object.values(replaced), bytes };
}

async function main(): Promise<void> {
  await selectBackend({ backend: 'wasm' });
  const { weights, metadata } = await loadWeights(modelUrl(args.model ?? BUILT_MODEL_DIR), { fetch: fileFetch });
  if (metadata.quantization !== 'float16') throw new Error(`--model must be a float16 build, not ${metadata.quantization}`);
  const photos = calibrationPhotos(Number(args.photos));
  console.log(`head ${metadata.head.version}; calibration photos: ${photos.map((p) => p.slice(CALTECH.length + 1)).join(', ')}`);
  const reference = await Promise.all(photos.map((p) => encodePhoto(weights, p)));

  const rows: [string, Scheme, (name: string) => boolean][] = [
    ...GROUPS.map(([label, pattern]): [string, Scheme, (name: string) => boolean] => [`int4: ${label}`, 'int4', (n) => pattern.test(n)]),
    ['int8 (all filters)', 'int8', () => true],
    ['mixed (all filters)', 'mixed', () => true],
    ['int4 (all filters)', 'int4', () => true],
  ];
  console.log(`| filters stored so (rest float16) | MiB | G_1 | G_2 | G_3 | G_4 | raw |\n|---|---|---|---|---|---|---|`);
  for (const [label, scheme, pick] of rows) {
    const variant = await withStorage(weights, scheme, pick);
    const sums = [0, 0, 0, 0, 0];
    for (const [k, photo] of photos.entries()) {
      const maps = await encodePhoto(variant.weights, photo);
      (await relativeErrors(maps, reference[k])).forEach((e, i) => (sums[i] += e / photos.length));
      tf.dispose(mapTensors(maps));
    }
    tf.dispose(variant.replaced);
    console.log(`| ${label} | ${(variant.bytes / 2 ** 20).toFixed(1)} | ${sums.map((e) => `${(100 * e).toFixed(2)}%`).join(' | ')} |`);
  }
  reference.forEach((m) => tf.dispose(mapTensors(m)));
  tf.dispose(Object.values(weights));
}

await main();
