/**
 * `npm run eval:willow`: PF-WILLOW PCK of the built model (Node, wasm), SPEC §4 protocol.
 *
 *   tsx scripts/eval-willow.ts [--mode mmnet|fused|raw] [--raw] [--flip] [--model DIR] [--limit N]
 *
 * Writes eval/pf-willow[-mode][-flip][-uint8].json; the last line is `PCK@0.1 s1=… s2=… …` (percent).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FUSED_SCALES, SCALE_INDICES, type Features, type MatchMode, type Point, type ScaleIndex } from '../src/model';
import { loadNodeModel, readPng } from './node-io';
import { REPO_ROOT, SHARED_DIR } from './paths';

const ALPHAS = [0.05, 0.1, 0.15] as const;
const WILLOW_DIR = join(SHARED_DIR, 'datasets', 'pf-willow');

interface Willow {
  images: Record<string, { file: string; width: number; height: number; keypoints: [number, number][] }>;
  pairs: { source: string; target: string; category: string }[];
}

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'mmnet' },
    raw: { type: 'boolean', default: false },
    flip: { type: 'boolean', default: false },
    model: { type: 'string' },
    limit: { type: 'string' },
  },
});
const mode = (args.raw ? 'raw' : args.mode) as MatchMode;
if (!['mmnet', 'fused', 'raw'].includes(mode)) throw new Error(`--mode must be mmnet, fused or raw, not ${mode}`);
/** Raw rows live on the stride-16 grid whatever the scale, so one run stands for all. */
const scales: readonly ScaleIndex[] = mode === 'raw' ? [3] : mode === 'fused' ? FUSED_SCALES : SCALE_INDICES;
const scaleLabel = (s: ScaleIndex) => (mode === 'raw' ? 'raw' : `s${s}`);

/** Correct-keypoint counts per scale and α, and the number of keypoints. */
type Tally = { total: number; correct: Record<string, number[]> };
const newTally = (): Tally => ({ total: 0, correct: Object.fromEntries(scales.map((s) => [scaleLabel(s), ALPHAS.map(() => 0)])) });
const pck = (t: Tally) =>
  Object.fromEntries(Object.entries(t.correct).map(([s, c]) => [s, Object.fromEntries(ALPHAS.map((a, k) => [a, round2((100 * c[k]) / t.total)]))]));
const round2 = (v: number) => Math.round(v * 100) / 100;

/** PCK threshold unit: the larger side of the bounding box of the target's keypoints. */
function boxSize(keypoints: [number, number][]): number {
  const xs = keypoints.map((k) => k[0]);
  const ys = keypoints.map((k) => k[1]);
  return Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
}

async function main(): Promise<void> {
  const willow = JSON.parse(readFileSync(join(WILLOW_DIR, 'pf-willow.json'), 'utf8')) as Willow;
  const pairs = willow.pairs.slice(0, args.limit ? Number(args.limit) : undefined);
  const model = await loadNodeModel(args.model);
  const started = performance.now();
  const progress = (line: string) => process.stderr.write(`${line} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);

  const names = [...new Set(pairs.flatMap((p) => [p.source, p.target]))];
  const features = new Map<string, Features>();
  for (const [k, name] of names.entries()) {
    features.set(name, await model.encode(readPng(join(WILLOW_DIR, willow.images[name].file))));
    if ((k + 1) % 20 === 0 || k + 1 === names.length) progress(`encoded ${k + 1}/${names.length} images`);
  }

  const overall = newTally();
  const perCategory = new Map<string, Tally>();
  for (const [k, pair] of pairs.entries()) {
    const source = willow.images[pair.source];
    const target = willow.images[pair.target];
    // Pixel-index keypoints → continuous coordinates (pixel centres) and back.
    const queries: Point[] = source.keypoints.map(([x, y]) => ({ x: x + 0.5, y: y + 0.5 }));
    const unit = boxSize(target.keypoints);
    const category = perCategory.get(pair.category) ?? newTally();
    perCategory.set(pair.category, category);
    for (const tally of [overall, category]) tally.total += queries.length;

    for (const scale of scales) {
      const matches = await model.match(features.get(pair.source)!, features.get(pair.target)!, queries, { scale, mode, flip: args.flip });
      matches.forEach((m, n) => {
        const [tx, ty] = target.keypoints[n];
        const error = Math.hypot(m.target.x - 0.5 - tx, m.target.y - 0.5 - ty);
        ALPHAS.forEach((alpha, a) => {
          if (error <= alpha * unit) for (const tally of [overall, category]) tally.correct[scaleLabel(scale)][a]++;
        });
      });
    }
    if ((k + 1) % 100 === 0 || k + 1 === pairs.length) progress(`matched ${k + 1}/${pairs.length} pairs`);
  }
  features.forEach((f) => f.dispose());
  model.dispose();

  const result = {
    benchmark: 'PF-WILLOW',
    mode,
    flip: args.flip,
    model: model.metadata.head,
    quantization: model.metadata.quantization,
    pairs: pairs.length,
    keypoints: overall.total,
    pck: pck(overall),
    perCategory: Object.fromEntries([...perCategory].map(([c, t]) => [c, pck(t)])),
  };
  const runName = ['pf-willow', mode !== 'mmnet' && mode, args.flip && 'flip', result.quantization !== 'float16' && result.quantization]
    .filter(Boolean)
    .join('-');
  mkdirSync(join(REPO_ROOT, 'eval'), { recursive: true });
  const outPath = join(REPO_ROOT, 'eval', `${runName}.json`);
  writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);

  console.log(`PF-WILLOW, mode ${mode}${args.flip ? ' + flip' : ''}, head ${result.model.version}, ${pairs.length} pairs, ${overall.total} keypoints → ${outPath}`);
  console.log(['', ...ALPHAS.map((a) => `α=${a.toFixed(2)}`)].map((c) => c.padStart(8)).join(''));
  for (const [s, byAlpha] of Object.entries(result.pck)) {
    console.log([s, ...ALPHAS.map((a) => byAlpha[a].toFixed(2))].map((c) => c.padStart(8)).join(''));
  }
  for (const [c, byScale] of Object.entries(result.perCategory)) {
    console.log(`  ${c.padEnd(14)} ${Object.entries(byScale).map(([s, v]) => `${s}=${v[0.1].toFixed(2)}`).join(' ')}`);
  }
  console.log(`PCK@0.1 ${Object.entries(result.pck).map(([s, v]) => `${s}=${v[0.1].toFixed(2)}`).join(' ')}`);
}

await main();
