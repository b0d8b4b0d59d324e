/**
 * Parity of an exported head in tfjs: loads a built model folder (scripts/build/build-models.ts --head … --out …),
 * encodes a fixture image and compares G_1…G_4 with the PyTorch values dumped by training/dump_features.py.
 *
 *   tsx scripts/build/check-head-export.ts --model DIR --ref DIR [--tol 2e-3]
 *
 * Tolerance per map: |tfjs − torch| ≤ tol × absmax(torch). Exits 1 on failure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadNodeModel, readRgb } from '../../src/model/node/io';
import { BUILT_MODEL_DIR, SHARED_DIR } from '../../src/model/testing/paths';
import type { ScaleIndex } from '../../src/model/constants';

const { values: args } = parseArgs({
  options: { model: { type: 'string' }, ref: { type: 'string' }, tol: { type: 'string', default: '2e-3' } },
});
if (!args.model || !args.ref) {
  console.error('usage: tsx scripts/build/check-head-export.ts --model DIR --ref DIR [--tol 2e-3]');
  process.exit(2);
}
const tol = Number(args.tol);
const meta = JSON.parse(readFileSync(join(args.ref, 'meta.json'), 'utf8')) as {
  image: string;
  maps: Record<string, { shape: number[]; absmax: number; file: string }>;
};

const model = await loadNodeModel(args.model ?? BUILT_MODEL_DIR);
const input = readRgb(join(SHARED_DIR, 'fixtures', `${meta.image}_224x320.rgb`));
const features = await model.encode(input);
input.dispose();
let failed = false;
for (const s of [1, 2, 3, 4] as ScaleIndex[]) {
  const ref = meta.maps[String(s)];
  const buf = readFileSync(join(args.ref, ref.file));
  const expected = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const map = features.featureMap(s);
  const ours = await map.data();
  const shape = map.shape;
  map.dispose();
  if (shape.join('x') !== ref.shape.join('x')) {
    console.log(`G_${s}: shape ${shape.join('x')} vs ${ref.shape.join('x')}: FAIL`);
    failed = true;
    continue;
  }
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(ours[i] - expected[i]));
  const limit = tol * ref.absmax;
  const ok = worst <= limit && Number.isFinite(worst);
  if (!ok) failed = true;
  console.log(
    `G_${s} ${shape.join('x')}: max |tfjs - torch| ${worst.toExponential(2)} (limit ${limit.toExponential(2)}) ${ok ? 'ok' : 'FAIL'}`,
  );
}
features.dispose();
model.dispose();
if (failed) {
  console.error('check-head-export: tfjs features of the exported head differ from PyTorch');
  process.exit(1);
}
console.log('check-head-export: OK');
