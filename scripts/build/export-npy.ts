/**
 * Writes a built model's weights, as the loader decodes them, back to float32 `.npy` files in the
 * source layouts, so the PyTorch code of training/ can evaluate a quantized build:
 *
 *   npx tsx scripts/build/export-npy.ts --model .cache/quant/int8 --out /tmp/int8-npy
 *   MMNET_TRUNK_DIR=/tmp/int8-npy/resnet_v2_101 /usr/bin/python3 training/eval_willow.py --head /tmp/int8-npy/head --device cpu
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dequantize, storedBytes } from '../../src/model/quantization';
import type { ModelJson } from '../../src/model/weights';
import { headTensors, trunkTensors, type TensorSpec } from './model-layout';
import { float32Npy, transpose } from './npy';

const { values: args } = parseArgs({ options: { model: { type: 'string' }, out: { type: 'string' } } });
if (!args.model || !args.out) throw new Error('usage: export-npy.ts --model DIR --out DIR');

const model = JSON.parse(readFileSync(join(args.model, 'model.json'), 'utf8')) as ModelJson;
const bytes = new Uint8Array(Buffer.concat(model.metadata.shards.map((s) => readFileSync(join(args.model!, s.path)))));
const specs = new Map<string, TensorSpec & { dir: string }>([
  ...trunkTensors().map((s) => [s.name, { ...s, dir: 'resnet_v2_101' }] as const),
  ...headTensors().map((s) => [s.name, { ...s, dir: 'head' }] as const),
]);
for (const dir of ['resnet_v2_101', 'head']) mkdirSync(join(args.out, dir), { recursive: true });

let offset = 0;
for (const { name, shape, storage } of model.weights) {
  const size = storedBytes(shape, storage);
  const values = dequantize(bytes.slice(offset, offset + size), shape, storage);
  offset += size;
  const spec = specs.get(name)!;
  const inverse = spec.perm?.map((_, i) => spec.perm!.indexOf(i));
  const source = inverse ? transpose(values, shape, inverse) : { data: values, shape };
  writeFileSync(join(args.out, spec.dir, spec.file), float32Npy(source.data, source.shape));
}
console.log(`export-npy: ${model.weights.length} tensors (${model.metadata.quantization}) → ${args.out}`);
