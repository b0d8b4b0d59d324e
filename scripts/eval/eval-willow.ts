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
 * Per scale it also judges `confidence` against right/wrong at α = 0.10: AUROC, ECE (10 equal-width bins) and
 * a reliability table, beside the baselines `probability` and the forward–backward distance.
 * Writes eval/ (or --out) pf-willow[-mode][-flip][-int8|-int4|-mixed][-split].json; the last line is
 * `PCK@0.1 s1=… s2=… … auroc=… ece=…` (percent; the confidence's figures at the default scale).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SCALE, FUSED_SCALES, SCALE_INDICES, type Features, type MatchMode, type ScaleIndex } from '../../src/model';
import { loadNodeModel } from '../../src/model/node/io';
import { BUILT_MODEL_DIR, REPO_ROOT } from '../../src/model/testing/paths';
import { auroc, ece, reliability } from './calibration';
import { ALPHA } from './confidence-data';
import { boxErrors, encodeImages, loadWillow, pairsOf, partOf, partSets, progressLog, queriesOf, SPLITS, type Part, type Split, type Willow } from './willow';

const ALPHAS = [0.05, ALPHA, 0.15] as const;
const MODES: readonly MatchMode[] = ['mmnet', 'fused', 'raw'];

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

type Model = Awaited<ReturnType<typeof loadNodeModel>>;

/** One scale's matches: the confidence, its baselines, and whether each was right at α = ALPHA. */
interface Judged {
  confidence: number[];
  probability: number[];
  backDistance: number[];
  right: boolean[];
}

/**
 * How well each predicts right against wrong (AUROC) and, for the probabilities, how well it is
 * calibrated (ECE, 10 bins); the forward–backward distance is no probability (AUROC of its negative).
 */
const judge = ({ confidence, probability, backDistance, right }: Judged) => ({
  confidence: { auroc: auroc(confidence, right), ece: ece(confidence, right), reliability: reliability(confidence, right) },
  probability: { auroc: auroc(probability, right), ece: ece(probability, right) },
  backDistance: { auroc: auroc(backDistance.map((d) => -d), right) },
});

function printConfidence(byScale: Record<string, ReturnType<typeof judge>>): void {
  for (const [label, { confidence, probability, backDistance }] of Object.entries(byScale)) {
    console.log(
      `  ${`${label} right@${ALPHA}`.padEnd(14)} confidence auroc=${confidence.auroc.toFixed(3)} ece=${confidence.ece.toFixed(3)} · ` +
        `probability auroc=${probability.auroc.toFixed(3)} ece=${probability.ece.toFixed(3)} · forward–backward auroc=${backDistance.auroc.toFixed(3)}`,
    );
  }
  for (const [label, { confidence }] of Object.entries(byScale)) {
    console.log(`  reliability of confidence, ${label}:   bin          keypoints  confidence  right`);
    for (const bin of confidence.reliability) {
      const range = `${bin.from.toFixed(1)}–${bin.to.toFixed(1)}`;
      const filled = bin.count > 0;
      console.log(
        `${''.padEnd(38)}${range.padEnd(13)}${String(bin.count).padStart(9)}  ${filled ? bin.confidence.toFixed(3).padStart(10) : '—'.padStart(10)}  ${filled ? bin.accuracy.toFixed(3) : '—'}`,
      );
    }
  }
}

/** Tallies one run over the pairs, from features encoded once, and writes and prints its result. */
async function evaluate(run: Run, willow: Willow, pairs: Willow['pairs'], model: Model, features: Map<string, Features>, progress: (line: string) => void): Promise<void> {
  const overall = newTally(run);
  const perCategory = new Map<string, Tally>();
  const perPart = new Map<Part, Tally>(split === 'all' ? partSets.map(([part]) => [part, newTally(run)]) : []);
  const keptParts = () => [...perPart].filter(([, t]) => t.total > 0);
  /** Per scale label, what the confidence and its baselines are judged on. */
  const judged = new Map<string, Judged>(run.scales.map((s) => [scaleLabel(run, s), { confidence: [], probability: [], backDistance: [], right: [] }]));
  for (const [k, pair] of pairs.entries()) {
    const queries = queriesOf(willow, pair);
    const category = perCategory.get(pair.category) ?? newTally(run);
    perCategory.set(pair.category, category);
    const part = perPart.get(partOf(pair)!);
    const tallies = part ? [overall, category, part] : [overall, category];
    for (const tally of tallies) tally.total += queries.length;

    for (const scale of run.scales) {
      const label = scaleLabel(run, scale);
      const matches = await model.match(features.get(pair.source)!, features.get(pair.target)!, queries, { scale, mode: run.mode, flip: run.flip });
      const errors = boxErrors(
        willow,
        pair,
        matches.map((m) => m.target),
      );
      const j = judged.get(label)!;
      matches.forEach((m, n) => {
        ALPHAS.forEach((alpha, a) => {
          if (errors[n] <= alpha) for (const tally of tallies) tally.correct[label][a]++;
        });
        j.confidence.push(m.confidence);
        j.probability.push(m.probability);
        j.backDistance.push(m.signals.backDistance);
        j.right.push(errors[n] <= ALPHA);
      });
    }
    if ((k + 1) % 100 === 0 || k + 1 === pairs.length) progress(`${run.mode}${run.flip ? ' + flip' : ''}: matched ${k + 1}/${pairs.length} pairs`);
  }
  const confidence = Object.fromEntries([...judged].map(([label, j]) => [label, judge(j)]));

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
    confidence,
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
  printConfidence(confidence);
  const headline = confidence[scaleLabel(run, run.scales.includes(DEFAULT_SCALE) ? DEFAULT_SCALE : run.scales[0])];
  console.log(
    `PCK@0.1 ${Object.entries(result.pck).map(([s, v]) => `${s}=${v[0.1].toFixed(2)}`).join(' ')} ` +
      `auroc=${headline.confidence.auroc.toFixed(3)} ece=${headline.confidence.ece.toFixed(3)}`,
  );
}

async function main(): Promise<void> {
  const willow = loadWillow();
  const pairs = pairsOf(willow, split, args.limit ? Number(args.limit) : undefined);
  const model = await loadNodeModel(args.model ?? BUILT_MODEL_DIR);
  const progress = progressLog();
  const features = await encodeImages(willow, pairs, model, progress);
  for (const run of runs) await evaluate(run, willow, pairs, model, features, progress);
  features.forEach((f) => f.dispose());
  model.dispose();
}

await main();
