/**
 * `npm run eval:willow`: PF-WILLOW PCK of the built model (Node, wasm), SPEC §4 protocol.
 *
 *   tsx scripts/eval/eval-willow.ts [--mode mmnet|fused|raw[,…]] [--raw] [--flip] [--split val|test|all] [--model DIR]
 *                              [--limit N] [--out DIR]
 *
 * `--mode` takes a comma-separated list whose items may end in `+flip` (e.g. `mmnet,fused,fused+flip`): the
 * runs share one encode per image and each prints and writes what a run of its own would. `--flip` flips all.
 * `--split` keeps the pairs whose two images lie in that part of scripts/eval/pf-willow-split.json (val: model
 * selection; test: held out; all: the 900 standard pairs, the default). With `all`, the val and test parts
 * are also tallied on their own (`parts` in the JSON, a line each), so one run gives all three.
 * Writes eval/ (or --out) pf-willow[-mode][-flip][-int8|-int4|-mixed][-split].json; the last line is `PCK@0.1 s1=… s2=… …` (percent).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FUSED_SCALES, SCALE_INDICES, type Features, type MatchMode, type Point, type ScaleIndex } from '../../src/model';
import { loadNodeModel, readPng } from '../../src/model/node/io';
import { BUILT_MODEL_DIR, REPO_ROOT, SHARED_DIR } from '../../src/model/testing/paths';

const ALPHAS = [0.05, 0.1, 0.15] as const;
const WILLOW_DIR = join(SHARED_DIR, 'datasets', 'pf-willow');
const SPLIT_FILE = join(REPO_ROOT, 'scripts', 'eval', 'pf-willow-split.json');
const SPLITS = ['all', 'val', 'test'] as const;
const MODES: readonly MatchMode[] = ['mmnet', 'fused', 'raw'];
type Split = (typeof SPLITS)[number];
type Part = Exclude<Split, 'all'>;

interface Willow {
  images: Record<string, { file: string; width: number; height: number; keypoints: [number, number][] }>;
  pairs: { source: string; target: string; category: string }[];
}

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'mmnet' },
    raw: { type: 'boolean', default: false },
    flip: { type: 'boolean', default: false },
    split: { type: 'string', default: 'all' },
    model: { type: 'string' },
    limit: { type: 'string' },
    out: { type: 'string', default: join(REPO_ROOT, 'eval') },
  },
});

/** One evaluation: a matching mode, with or without flip averaging (never for raw, which has no head rows). */
interface Run {
  mode: MatchMode;
  flip: boolean;
  scales: readonly ScaleIndex[];
}
const runs: Run[] = (args.raw ? 'raw' : args.mode).split(',').map((item) => {
  const [mode, suffix] = item.trim().split('+') as [MatchMode, string | undefined];
  if (!MODES.includes(mode) || (suffix !== undefined && suffix !== 'flip')) {
    throw new Error(`--mode items must be mmnet, fused or raw, optionally with +flip, not ${item}`);
  }
  /** Raw rows live on the stride-16 grid whatever the scale, so one run stands for all. */
  const scales = mode === 'raw' ? [3 as ScaleIndex] : mode === 'fused' ? FUSED_SCALES : SCALE_INDICES;
  return { mode, flip: (args.flip || suffix === 'flip') && mode !== 'raw', scales };
});
const split = args.split as Split;
if (!SPLITS.includes(split)) throw new Error(`--split must be ${SPLITS.join(', ')}, not ${split}`);
const scaleLabel = (run: Run, s: ScaleIndex) => (run.mode === 'raw' ? 'raw' : `s${s}`);

/** Correct-keypoint counts per scale and α, and the number of keypoints. */
type Tally = { total: number; correct: Record<string, number[]> };
const newTally = (run: Run): Tally => ({
  total: 0,
  correct: Object.fromEntries(run.scales.map((s) => [scaleLabel(run, s), ALPHAS.map(() => 0)])),
});
const pck = (t: Tally) =>
  Object.fromEntries(Object.entries(t.correct).map(([s, c]) => [s, Object.fromEntries(ALPHAS.map((a, k) => [a, round2((100 * c[k]) / t.total)]))]));
const round2 = (v: number) => Math.round(v * 100) / 100;

/** PCK threshold unit: the larger side of the bounding box of the target's keypoints. */
function boxSize(keypoints: [number, number][]): number {
  const xs = keypoints.map((k) => k[0]);
  const ys = keypoints.map((k) => k[1]);
  return Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
}

const splitImages = JSON.parse(readFileSync(SPLIT_FILE, 'utf8')) as Record<Part, string[]>;
const partSets = (['val', 'test'] as const).map((part) => [part, new Set(splitImages[part])] as const);

/** The part holding both images of a pair; mixed pairs belong to none. */
function partOf(pair: { source: string; target: string }): Part | undefined {
  return partSets.find(([, images]) => images.has(pair.source) && images.has(pair.target))?.[0];
}

type Model = Awaited<ReturnType<typeof loadNodeModel>>;

/** Tallies one run over the pairs, from features encoded once, and writes and prints its result. */
async function evaluate(run: Run, willow: Willow, pairs: Willow['pairs'], model: Model, features: Map<string, Features>, progress: (line: string) => void): Promise<void> {
  const overall = newTally(run);
  const perCategory = new Map<string, Tally>();
  const perPart = new Map<Part, Tally>(split === 'all' ? partSets.map(([part]) => [part, newTally(run)]) : []);
  const keptParts = () => [...perPart].filter(([, t]) => t.total > 0);
  for (const [k, pair] of pairs.entries()) {
    const source = willow.images[pair.source];
    const target = willow.images[pair.target];
    // Pixel-index keypoints → continuous coordinates (pixel centres) and back.
    const queries: Point[] = source.keypoints.map(([x, y]) => ({ x: x + 0.5, y: y + 0.5 }));
    const unit = boxSize(target.keypoints);
    const category = perCategory.get(pair.category) ?? newTally(run);
    perCategory.set(pair.category, category);
    const part = perPart.get(partOf(pair)!);
    const tallies = part ? [overall, category, part] : [overall, category];
    for (const tally of tallies) tally.total += queries.length;

    for (const scale of run.scales) {
      const matches = await model.match(features.get(pair.source)!, features.get(pair.target)!, queries, { scale, mode: run.mode, flip: run.flip });
      matches.forEach((m, n) => {
        const [tx, ty] = target.keypoints[n];
        const error = Math.hypot(m.target.x - 0.5 - tx, m.target.y - 0.5 - ty);
        ALPHAS.forEach((alpha, a) => {
          if (error <= alpha * unit) for (const tally of tallies) tally.correct[scaleLabel(run, scale)][a]++;
        });
      });
    }
    if ((k + 1) % 100 === 0 || k + 1 === pairs.length) progress(`${run.mode}${run.flip ? ' + flip' : ''}: matched ${k + 1}/${pairs.length} pairs`);
  }

  const result = {
    benchmark: 'PF-WILLOW',
    mode: run.mode,
    flip: run.flip,
    split,
    model: model.metadata.head,
    quantization: model.metadata.quantization,
    pairs: pairs.length,
    keypoints: overall.total,
    pck: pck(overall),
    perCategory: Object.fromEntries([...perCategory].map(([c, t]) => [c, pck(t)])),
    ...(keptParts().length > 0 && { parts: Object.fromEntries(keptParts().map(([p, t]) => [p, { keypoints: t.total, pck: pck(t) }])) }),
  };
  const runName = ['pf-willow', run.mode !== 'mmnet' && run.mode, run.flip && 'flip', result.quantization !== 'float16' && result.quantization, split !== 'all' && split]
    .filter(Boolean)
    .join('-');
  mkdirSync(args.out, { recursive: true });
  const outPath = join(args.out, `${runName}.json`);
  writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);

  console.log(
    `PF-WILLOW${split === 'all' ? '' : ` (${split} split)`}, mode ${run.mode}${run.flip ? ' + flip' : ''}, head ${result.model.version}, ` +
      `${pairs.length} pairs, ${overall.total} keypoints → ${outPath}`,
  );
  console.log(['', ...ALPHAS.map((a) => `α=${a.toFixed(2)}`)].map((c) => c.padStart(8)).join(''));
  for (const [s, byAlpha] of Object.entries(result.pck)) {
    console.log([s, ...ALPHAS.map((a) => byAlpha[a].toFixed(2))].map((c) => c.padStart(8)).join(''));
  }
  const line = (label: string, byScale: Record<string, Record<number, number>>) =>
    console.log(`  ${label.padEnd(14)} ${Object.entries(byScale).map(([s, v]) => `${s}=${v[0.1].toFixed(2)}`).join(' ')}`);
  for (const [c, byScale] of Object.entries(result.perCategory)) line(c, byScale);
  for (const [p, t] of keptParts()) line(`${p} split`, pck(t));
  console.log(`PCK@0.1 ${Object.entries(result.pck).map(([s, v]) => `${s}=${v[0.1].toFixed(2)}`).join(' ')}`);
}

async function main(): Promise<void> {
  const willow = JSON.parse(readFileSync(join(WILLOW_DIR, 'pf-willow.json'), 'utf8')) as Willow;
  const pairs = willow.pairs.filter((p) => split === 'all' || partOf(p) === split).slice(0, args.limit ? Number(args.limit) : undefined);
  const model = await loadNodeModel(args.model ?? BUILT_MODEL_DIR);
  const started = performance.now();
  const progress = (line: string) => process.stderr.write(`${line} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);

  const names = [...new Set(pairs.flatMap((p) => [p.source, p.target]))];
  const features = new Map<string, Features>();
  for (const [k, name] of names.entries()) {
    features.set(name, await model.encode(readPng(join(WILLOW_DIR, willow.images[name].file))));
    if ((k + 1) % 20 === 0 || k + 1 === names.length) progress(`encoded ${k + 1}/${names.length} images`);
  }
  for (const run of runs) await evaluate(run, willow, pairs, model, features, progress);
  features.forEach((f) => f.dispose());
  model.dispose();
}

await main();
