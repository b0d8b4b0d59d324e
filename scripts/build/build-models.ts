/**
 * `npm run models`: converts the trunk and head `.npy` weights into a tfjs model folder
 * (model.json + ≤4 MB shards, float16 storage, HWIO layouts, sha256 per shard).
 *
 *   tsx scripts/build/build-models.ts [--out DIR] [--head DIR] [--quantize float16|int8|int4|mixed] [--force]
 *
 * Sources: the trunk from $MMNET_MODELS_DIR, ../shared/models, the download cache or its public
 * URL (scripts/build/trunk-source.ts); the head named by --head or $MMNET_HEAD, else the one named in
 * models/DEFAULT_HEAD (a head becomes the default only by the rule of training/README.md).
 * `--quantize` (or $MMNET_QUANTIZE) picks the storage of the conv filters (scripts/build/quantize.ts,
 * src/model/quantization.ts); biases and small filters stay float16.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FEATURE_CHANNELS, INPUT_HEIGHT, INPUT_WIDTH, MODEL_NAME, RAW_TAP, SCALES } from '../../src/model/constants';
import type { StoredTensor } from '../../src/model/quantization';
import type { ConfidenceCalibration } from '../../src/model/confidence';
import type { MatchingDefaults, ModelJson, ModelMetadata } from '../../src/model/weights';
import { headTensors, trunkTensors, type TensorSpec } from './model-layout';
import { fromHalfBits, parseNpy, toHalfBits, transpose } from './npy';
import { CONFIDENCE_FILE, REPO_ROOT } from '../../src/model/testing/paths';
import { SCHEMES, type Scheme } from '../../src/model/quantization';
import { buildExampleFeatures, buildFirstMatches } from './example-features';
import { defaultScheme, quantize, storageFor } from './quantize';
import { resolveTrunk } from './trunk-source';

/** Bump when the output format changes, so stale builds are redone. */
const BUILD_VERSION = 2;
const SHARD_BYTES = 4 * 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    head: { type: 'string' },
    quantize: { type: 'string' },
    force: { type: 'boolean', default: false },
  },
});
const quantization = (args.quantize as Scheme | undefined) ?? defaultScheme();
if (!SCHEMES.includes(quantization)) fail(`--quantize must be ${SCHEMES.join(', ')}, not ${quantization}`);

const headDir = resolveHeadDir(args.head ?? process.env.MMNET_HEAD);
const outDir = resolve(args.out ?? join(REPO_ROOT, 'public', 'models', MODEL_NAME));

function resolveHeadDir(requested: string | undefined): string {
  if (requested) {
    const named = [resolve(requested), join(REPO_ROOT, 'models', requested)].find((d) => existsSync(d));
    if (!named) fail(`MMNET_HEAD/--head "${requested}" is neither a folder nor a head under models/`);
    return named!;
  }
  const defaultFile = join(REPO_ROOT, 'models', 'DEFAULT_HEAD');
  if (!existsSync(defaultFile)) fail(`no --head, no $MMNET_HEAD and no ${defaultFile}`);
  const name = readFileSync(defaultFile, 'utf8').trim();
  if (!existsSync(join(REPO_ROOT, 'models', name))) fail(`${defaultFile} names "${name}", which is not a folder under models/`);
  return join(REPO_ROOT, 'models', name);
}

function fail(message: string): never {
  console.error(`npm run models: ${message}`);
  process.exit(1);
}

/**
 * Identifies the inputs: unchanged sources and options mean the existing output is current. The
 * scheme is part of it, and so is the quantizer's code when it runs: a change of its per-layer plan or
 * its clipping search rebuilds.
 */
function buildKey(sources: { dir: string; specs: TensorSpec[] }[]): string {
  const hash = createHash('sha256').update(JSON.stringify({ BUILD_VERSION, SHARD_BYTES, quantization }));
  if (quantization !== 'float16')
    for (const code of ['scripts/build/quantize.ts', 'src/model/quantization.ts']) hash.update(readFileSync(join(REPO_ROOT, code)));
  for (const { dir, specs } of sources) {
    for (const s of specs) {
      const path = join(dir, s.file);
      if (!existsSync(path)) fail(`missing weight file ${path}`);
      const { size, mtimeMs } = statSync(path);
      hash.update(`${path}:${size}:${mtimeMs}\n`);
    }
  }
  return hash.digest('hex');
}

/** The matching defaults and consensus constants, shipped as `metadata.matching` (chosen on the selection split). */
const readMatching = (): MatchingDefaults =>
  JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'matching.json'), 'utf8')) as MatchingDefaults;

/** The calibration of `Match.confidence` (`npm run fit:confidence`), shipped in the metadata when fitted. */
const readConfidence = (): ConfidenceCalibration | undefined =>
  existsSync(CONFIDENCE_FILE) ? (JSON.parse(readFileSync(CONFIDENCE_FILE, 'utf8')) as ConfidenceCalibration) : undefined;

/**
 * models/matching.json and models/confidence.json change no weight: an otherwise current build only gets
 * its metadata rewritten.
 */
function refreshMetadata(): void {
  const modelPath = join(outDir, 'model.json');
  const model = JSON.parse(readFileSync(modelPath, 'utf8')) as ModelJson;
  const fresh = { matching: readMatching(), confidence: readConfidence() };
  const changed = (Object.keys(fresh) as (keyof typeof fresh)[]).filter(
    (k) => JSON.stringify(model.metadata[k]) !== JSON.stringify(fresh[k]),
  );
  if (changed.length === 0) return;
  model.metadata = { ...model.metadata, ...fresh };
  writeFileSync(modelPath, JSON.stringify(model, null, 1));
  console.log(`npm run models: metadata.${changed.join(', metadata.')} of ${relative(process.cwd(), modelPath)} rewritten from models/`);
}

function isCurrent(key: string): boolean {
  const modelPath = join(outDir, 'model.json');
  if (!existsSync(modelPath)) return false;
  try {
    const model = JSON.parse(readFileSync(modelPath, 'utf8')) as ModelJson & { metadata: { buildKey?: string } };
    return (
      model.metadata.buildKey === key &&
      model.metadata.shards.every((s) => existsSync(join(outDir, s.path)) && statSync(join(outDir, s.path)).size === s.bytes)
    );
  } catch {
    return false;
  }
}

/** Reads, checks and re-lays-out one tensor as float16 bits. */
function readTensor(dir: string, spec: TensorSpec): { bits: Uint16Array; shape: number[] } {
  const path = join(dir, spec.file);
  const npy = parseNpy(readFileSync(path), path);
  if (npy.shape.join(',') !== spec.shape.join(',')) {
    fail(`${path} has shape [${npy.shape}], expected [${spec.shape}]`);
  }
  const bits = npy.dtype === 'float16' ? (npy.data as Uint16Array) : toHalfBits(npy.data as Float32Array);
  return spec.perm ? (({ data, shape }) => ({ bits: data, shape }))(transpose(bits, spec.shape, spec.perm)) : { bits, shape: spec.shape };
}

function headVersion(dir: string): string {
  return /mmnet_head_(v\d+)/.exec(basename(dir))?.[1] ?? basename(dir);
}

async function main(): Promise<void> {
  let trunk: Awaited<ReturnType<typeof resolveTrunk>>;
  try {
    trunk = await resolveTrunk();
  } catch (e) {
    fail((e as Error).message);
  }
  const sources = [
    { dir: trunk.dir, specs: trunkTensors() },
    { dir: headDir, specs: headTensors() },
  ];
  const key = buildKey(sources);
  if (!args.force && isCurrent(key)) {
    refreshMetadata();
    console.log(`npm run models: ${relative(process.cwd(), outDir) || '.'} is up to date`);
    return siteExamples();
  }

  const parts: Uint8Array[] = [];
  const weights: StoredTensor[] = [];
  for (const { dir, specs } of sources) {
    for (const spec of specs) {
      const { bits, shape } = readTensor(dir, spec);
      const storage = storageFor(quantization, spec.name, shape);
      // float16 sources are copied bit for bit; only the quantized ones go through float32.
      parts.push(
        storage.dtype === 'float16'
          ? new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength)
          : quantize(fromHalfBits(bits), shape, storage),
      );
      weights.push({ name: spec.name, shape, storage });
    }
  }
  const blob = Buffer.concat(parts);

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const count = Math.ceil(blob.byteLength / SHARD_BYTES);
  const shards: ModelMetadata['shards'] = [];
  for (let i = 0; i < count; i++) {
    const bytes = blob.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES);
    const path = `group1-shard${i + 1}of${count}.bin`;
    writeFileSync(join(outDir, path), bytes);
    shards.push({ path, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
  }

  const metadata: ModelMetadata & { buildKey: string } = {
    format: 'mmnet-web/2',
    input: { height: INPUT_HEIGHT, width: INPUT_WIDTH },
    featureChannels: FEATURE_CHANNELS,
    scales: SCALES.map((s) => ({ ...s })),
    rawTap: RAW_TAP,
    trunk: { name: 'resnet_v2_101', source: trunk.origin },
    head: { version: headVersion(headDir), source: relative(REPO_ROOT, headDir) },
    quantization,
    matching: readMatching(),
    shards,
    confidence: readConfidence(),
    buildKey: key,
  };
  const model: ModelJson = { metadata, weights };
  writeFileSync(join(outDir, 'model.json'), JSON.stringify(model, null, 1));
  console.log(
    `npm run models: wrote ${relative(process.cwd(), outDir)} (${weights.length} tensors, ${count} shards, ` +
      `${(blob.byteLength / 2 ** 20).toFixed(1)} MiB, ${quantization}; head ${metadata.head.version})`,
  );
  await siteExamples();
}

/** The site's model (not one built elsewhere with --out) ships the examples' features. */
const siteExamples = async () => {
  if (args.out) return;
  await buildExampleFeatures(outDir);
  await buildFirstMatches(outDir);
};

await main();
