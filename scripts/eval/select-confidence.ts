/**
 * `npx tsx scripts/eval/select-confidence.ts`: chooses the confidence's signals on PF-WILLOW's val split
 * only, by cross-validation grouped by source image (every pair of a source image in one fold, `--folds`
 * folds, images in name order dealt round-robin), so no image's pairs are both fitted and judged.
 * `--group category`: one fold per category instead (leave one category out): the categories' base rates
 * differ widely (val: 48 % to 100 % right), so this judges how a calibration carries to pairs harder or
 * easier than those it was fitted on, as test's are (docs/confidence.md, third round).
 *
 *   tsx scripts/eval/select-confidence.ts [--setting fused+hough@s3] [--folds 5] [--group image|category] [--sets a,b,c;d,e]
 *                                         [--cache FILE] [--model DIR]
 *
 * Each val pair is matched once with every signal (`allSignals`), the signals are kept in `--cache`
 * (default eval/confidence-signals-<setting>.json; a later run with the same file matches nothing), and each
 * candidate set of signals is fitted as `npm run fit:confidence` fits it (sign-constrained logistic) on the
 * other folds and judged on the held-out fold: the pooled out-of-fold AUROC and ECE are printed. Default
 * sets: the shipped calibration's signals, those plus each other signal, every signal, and every signal
 * less each one.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { calibrationKey, PREDICTION_SETTINGS, SIGNALS, type MatchSignals, type SignalName } from '../../src/model';
import { loadNodeModel } from '../../src/model/node/io';
import { BUILT_MODEL_DIR, CONFIDENCE_FILE, REPO_ROOT } from '../../src/model/testing/paths';
import { auroc, ece, fitLogistic, predictLogistic, type Example } from './calibration';
import { collectMatches } from './confidence-data';
import { encodeImages, progressLog, readWillow, splitPairs } from './willow';

const { values: args } = parseArgs({
  options: {
    setting: { type: 'string', default: 'fused+hough@s3' },
    folds: { type: 'string', default: '5' },
    group: { type: 'string', default: 'image' },
    sets: { type: 'string' },
    cache: { type: 'string' },
    model: { type: 'string' },
  },
});

/** One val keypoint: its signals, whether it was right, and the source image (or category) that decides its fold. */
interface Judged {
  source: string;
  category: string;
  signals: MatchSignals;
  right: boolean;
}

const setting = PREDICTION_SETTINGS.find((s) => calibrationKey(s) === args.setting);
if (!setting) throw new Error(`unknown setting ${args.setting}`);
if (args.group !== 'image' && args.group !== 'category') throw new Error(`--group is image or category, not ${args.group}`);
const groupOf = (j: Judged) => (args.group === 'category' ? j.category : j.source);
const cache = args.cache ?? join(REPO_ROOT, 'eval', `confidence-signals-${args.setting}.json`);

async function collect(): Promise<Judged[]> {
  const willow = readWillow();
  const pairs = splitPairs(willow, 'val');
  const model = await loadNodeModel(args.model ?? BUILT_MODEL_DIR);
  const progress = progressLog();
  const features = await encodeImages(willow, pairs, model, progress, { hyperpixels: setting!.mode === 'hyper' });
  const judged: Judged[] = [];
  for (const pair of pairs) {
    const matches = await collectMatches(willow, [pair], model, features, setting!);
    judged.push(...matches.map((m) => ({ source: pair.source, category: pair.category, signals: m.signals, right: m.right })));
  }
  progress(`matched ${pairs.length} pairs`);
  features.forEach((f) => f.dispose());
  model.dispose();
  return judged;
}

/** Pooled out-of-fold predictions of a sign-constrained logistic model on `signals`. */
function crossValidated(judged: readonly Judged[], signals: readonly SignalName[], folds: number): number[] {
  const groups = [...new Set(judged.map(groupOf))].sort();
  const foldOf = new Map(groups.map((name, k) => [name, k % folds]));
  const examples: Example[] = judged.map((j) => ({ features: signals.map((name) => SIGNALS[name].feature(j.signals[name])), right: j.right }));
  const predicted = new Array<number>(judged.length);
  for (let fold = 0; fold < folds; fold++) {
    const held = (k: number) => foldOf.get(groupOf(judged[k])) === fold;
    const fit = fitLogistic(
      examples.filter((_, k) => !held(k)),
      signals.map((name) => SIGNALS[name].direction),
    );
    examples.forEach((e, k) => {
      if (held(k)) predicted[k] = predictLogistic(fit, e.features);
    });
  }
  return predicted;
}

function candidateSets(): SignalName[][] {
  const all = Object.keys(SIGNALS) as SignalName[];
  if (args.sets) return args.sets.split(';').map((set) => set.split(',').map((name) => name.trim() as SignalName));
  const shipped = JSON.parse(readFileSync(CONFIDENCE_FILE, 'utf8')) as { models: Record<string, { weights: Record<string, number> }> };
  const base = Object.keys(shipped.models[args.setting!]?.weights ?? {}) as SignalName[];
  const others = all.filter((name) => !base.includes(name));
  return [base, ...others.map((name) => [...base, name]), all, ...all.map((name) => all.filter((n) => n !== name))];
}

async function main(): Promise<void> {
  const judged = existsSync(cache) ? (JSON.parse(readFileSync(cache, 'utf8')) as Judged[]) : await collect();
  if (!existsSync(cache)) {
    mkdirSync(dirname(cache), { recursive: true });
    writeFileSync(cache, JSON.stringify(judged));
  }
  const right = judged.map((j) => j.right);
  if (judged.some((j) => j.category === undefined)) throw new Error(`${cache} predates --group: delete it to match again`);
  const folds = args.group === 'category' ? new Set(judged.map((j) => j.category)).size : Number(args.folds);
  console.log(
    `${args.setting}, val split: ${judged.length} keypoints, ${((100 * right.filter(Boolean).length) / right.length).toFixed(1)} % right; ` +
      `${folds}-fold CV by ${args.group === 'category' ? 'category' : 'source image'}`,
  );
  for (const name of Object.keys(SIGNALS) as SignalName[]) {
    const alone = judged.map((j) => SIGNALS[name].direction * SIGNALS[name].feature(j.signals[name]));
    console.log(`  ${name.padEnd(14)} alone auroc=${auroc(alone, right).toFixed(3)}`);
  }
  for (const set of candidateSets()) {
    const predicted = crossValidated(judged, set, folds);
    console.log(`cv auroc=${auroc(predicted, right).toFixed(3)} ece=${ece(predicted, right).toFixed(3)}  ${set.join(',')}`);
  }
}

await main();
