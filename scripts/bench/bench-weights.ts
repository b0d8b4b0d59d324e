/**
 * Model load time per weight storage, in one process so the builds share the machine's load:
 * reading the shards, sha256 of each, decoding to float32 and creating the tensors (`decodeMs`).
 *
 *   npx tsx scripts/bench/bench-weights.ts --model DIR [--model DIR …] [--runs 5] [--backend wasm]
 *
 * Runs alternate between the builds; the median of each is printed.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/model/backend';
import type { BackendName } from '../../src/model/types';
import { loadWeights } from '../../src/model/weights';
import { fileFetch, modelUrl } from '../../src/model/node/io';
import { BUILT_MODEL_DIR } from '../../src/model/testing/paths';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    runs: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'wasm' },
  },
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dirs = args.model ?? [BUILT_MODEL_DIR];
  await selectBackend({ backend: args.backend as BackendName });
  const times = dirs.map(() => [] as number[]);
  const decodes = dirs.map(() => [] as number[]);
  const sizes: string[] = [];
  for (let run = 0; run < Number(args.runs); run++) {
    for (const [k, dir] of dirs.entries()) {
      const started = performance.now();
      const { weights, metadata, timings } = await loadWeights(modelUrl(dir), { fetch: fileFetch });
      times[k].push(performance.now() - started);
      decodes[k].push(timings.decodeMs);
      sizes[k] = `${metadata.quantization}, ${(metadata.shards.reduce((n, s) => n + s.bytes, 0) / 2 ** 20).toFixed(1)} MiB`;
      tf.dispose(Object.values(weights));
    }
  }
  console.log(`| build | load ms (median of ${args.runs}, ${tf.getBackend()}) | of which decoding to float32 tensors |\n|---|---|---|`);
  dirs.forEach((dir, k) =>
    console.log(`| ${dir ?? 'default'} (${sizes[k]}) | ${median(times[k]).toFixed(0)} | ${median(decodes[k]).toFixed(0)} |`),
  );
}

await main();
