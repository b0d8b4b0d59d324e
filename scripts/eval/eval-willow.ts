/**
 * `npm run eval:willow`: PF-WILLOW PCK of the built model (Node, wasm), SPEC §4 protocol.
 *
 *   tsx scripts/eval/eval-willow.ts [--mode default|mmnet|fused|raw|hyper[+flip][+hough][+mirror][,…]] [--raw] [--flip]
 *                              [--split val|test|all] [--mirror-target] [--matching JSON] [--model DIR] [--limit N] [--out DIR]
 *
 * `--mode` takes a comma-separated list (default: `default`, the library's defaults from the model metadata);
 * the items other than `default` may end in `+flip` (flip averaging), `+hough` (the pair's geometric
 * consensus) and `+mirror` (with `+hough`: the mirror rule), and run without what they do not name
 * (e.g. `fused` is the old default, `fused+hough+mirror` the consensus with the mirror rule). The runs share
 * one encode per image and each prints and writes what a run of its own would. `--flip` flips all.
 * `hyper` (hyperpixel rows, on their grid like `raw`, never flipped) and a `--matching` that sets `hyperpixels`
 * (e.g. their votes for the consensus) encode every image with the hyperpixels of `metadata.matching.hyperpixels`
 * (the first override's, when it sets them).
 * `--split` keeps the pairs whose two images lie in that part of scripts/eval/pf-willow-split.json (val: model
 * selection; test: held out; all: the 900 standard pairs, the default). With `all`, the val and test parts
 * are also tallied on their own (`parts` in the JSON, a line each), so one run gives all three.
 * `--mirror-target`: every target image and its keypoints mirrored (pixel column x → W − 1 − x).
 * `--matching`: JSON overriding fields of the model's `metadata.matching` (for selection on `--split val`), or
 * an array of such overrides: each is run in turn on the same encodes, each on the model's own metadata (a field an
 * override does not name keeps the model's value, not the previous override's; each prints `matching {…}` first, and
 * its JSON files overwrite the previous override's, so pass `--out`).
 * Two PCK thresholds are printed: ours (the larger side of the box of the target's true keypoints, as in
 * HPF and SCOT), and "padded", the DHPF/CHM/CATs code's, whose keypoint list is padded with −2 before its
 * extent is taken (so the box always reaches (−2, −2)). The JSON and the last line hold ours.
 * Per scale it also judges `confidence` against right/wrong at α = 0.10 (ours): AUROC, ECE (10 equal-width
 * bins) and a reliability table, beside the baselines `probability` and the forward–backward distance.
 * Writes eval/ (or --out) pf-willow[-mode][-flip][-hough][-mirror][-int8|-int4|-mixed][-mirror-target][-split].json;
 * the last line is `PCK@0.1 s1=… s2=… … auroc=… ece=…` (percent; the confidence's figures at the default scale).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SCALE, FUSED_SCALES, hasOneGrid, SCALE_INDICES, type Features, type MatchMode, type MatchOptions, type Point, type ScaleIndex } from '../../src/model';
import { loadNodeModel, type readPng } from '../../src/model/node/io';
import { BUILT_MODEL_DIR, REPO_ROOT } from '../../src/model/testing/paths';
import {
  boxSize,
  laidBack,
  mirrorImage,
  mirrorKeypoints,
  paddedBoxSize,
  partOf,
  partSets,
  readWillow,
  readWillowImage,
  splitPairs,
  SPLITS,
  type Part,
  type Split,
  type Willow,
} from './willow';
import { auroc, ece, reliability } from './calibration';
import { ALPHA } from './confidence-data';

const ALPHAS = [0.05, ALPHA, 0.15] as const;
const MODES: readonly MatchMode[] = ['mmnet', 'fused', 'raw', 'hyper'];

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'default' },
    'mirror-target': { type: 'boolean', default: false },
    matching: { type: 'string' },
    raw: { type: 'boolean', default: false },
    flip: { type: 'boolean', default: false },
    split: { type: 'string', default: 'all' },
    model: { type: 'string' },
    limit: { type: 'string' },
    out: { type: 'string', default: join(REPO_ROOT, 'eval') },
  },
});

/**
 * One evaluation: a matching mode, with or without flip averaging (never for raw, which has no head rows),
 * the consensus and the mirror rule; `options` undefined: the library's defaults (`default`).
 */
interface Run {
  name: string;
  mode: MatchMode;
  options?: Pick<MatchOptions, 'mode' | 'flip' | 'consensus' | 'mirror'>;
  scales: readonly ScaleIndex[];
}
const SUFFIXES = ['flip', 'hough', 'mirror'] as const;
const runs: Run[] = (args.raw ? 'raw' : args.mode).split(',').map((item) => {
  if (item.trim() === 'default') return { name: 'default', mode: 'fused', scales: FUSED_SCALES };
  const [mode, ...suffixes] = item.trim().split('+') as [MatchMode, ...string[]];
  if (!MODES.includes(mode) || suffixes.some((s) => !(SUFFIXES as readonly string[]).includes(s))) {
    throw new Error(`--mode items must be default, or ${MODES.join(', ')} optionally with +flip, +hough, +mirror; not ${item}`);
  }
  /** Raw and hyperpixel rows live on the stride-16 grid whatever the scale, so one run stands for all. */
  const scales = hasOneGrid(mode) ? [3 as ScaleIndex] : mode === 'fused' ? FUSED_SCALES : SCALE_INDICES;
  const flip = (args.flip || suffixes.includes('flip')) && !hasOneGrid(mode);
  const consensus = suffixes.includes('hough');
  const mirror = consensus && suffixes.includes('mirror');
  const name = [mode, flip && 'flip', consensus && 'hough', mirror && 'mirror'].filter(Boolean).join('+');
  return { name, mode, options: { mode, flip, consensus, mirror }, scales };
});
const split = args.split as Split;
if (!SPLITS.includes(split)) throw new Error(`--split must be ${SPLITS.join(', ')}, not ${split}`);
const scaleLabel = (run: Run, s: ScaleIndex) => (hasOneGrid(run.mode) ? run.mode : `s${s}`);

/** Correct-keypoint counts per scale and α (ours and the padded threshold's), and the number of keypoints. */
type Tally = { total: number; correct: Record<string, number[]>; padded: Record<string, number[]> };
const counts = (run: Run) => Object.fromEntries(run.scales.map((s) => [scaleLabel(run, s), ALPHAS.map(() => 0)]));
const newTally = (run: Run): Tally => ({ total: 0, correct: counts(run), padded: counts(run) });
const pck = (t: Tally, correct = t.correct) =>
  Object.fromEntries(Object.entries(correct).map(([s, c]) => [s, Object.fromEntries(ALPHAS.map((a, k) => [a, round2((100 * c[k]) / t.total)]))]));
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
const mirrorTarget = args['mirror-target'];
/** A target image's record as evaluated: its keypoints mirrored with `--mirror-target`. */
const targetImage = (image: Willow['images'][string]) => (mirrorTarget ? { ...image, keypoints: mirrorKeypoints(image.keypoints, image.width) } : image);

/** Tallies one run over the pairs, from features encoded once, and writes and prints its result. */
async function evaluate(
  run: Run,
  willow: Willow,
  pairs: Willow['pairs'],
  model: Model,
  features: { source: Map<string, Features>; target: Map<string, Features> },
  progress: (line: string) => void,
): Promise<void> {
  const overall = newTally(run);
  const perCategory = new Map<string, Tally>();
  const perPart = new Map<Part, Tally>(split === 'all' ? partSets.map(([part]) => [part, newTally(run)]) : []);
  const keptParts = () => [...perPart].filter(([, t]) => t.total > 0);
  /** Per scale label, what the confidence and its baselines are judged on. */
  const judged = new Map<string, Judged>(run.scales.map((s) => [scaleLabel(run, s), { confidence: [], probability: [], backDistance: [], right: [] }]));
  for (const [k, pair] of pairs.entries()) {
    const source = willow.images[pair.source];
    const target = targetImage(willow.images[pair.target]);
    // Pixel-index keypoints → continuous coordinates (pixel centres) and back.
    const queries: Point[] = source.keypoints.map(([x, y]) => ({ x: x + 0.5, y: y + 0.5 }));
    const unit = boxSize(target.keypoints);
    const paddedUnit = paddedBoxSize(target.keypoints);
    const category = perCategory.get(pair.category) ?? newTally(run);
    perCategory.set(pair.category, category);
    const part = perPart.get(partOf(pair)!);
    const tallies = part ? [overall, category, part] : [overall, category];
    for (const tally of tallies) tally.total += queries.length;

    for (const scale of run.scales) {
      const matches = await model.match(features.source.get(pair.source)!, features.target.get(pair.target)!, queries, { scale, ...run.options });
      const label = scaleLabel(run, scale);
      const j = judged.get(label)!;
      matches.forEach((m, n) => {
        const [tx, ty] = target.keypoints[n];
        const error = Math.hypot(m.target.x - 0.5 - tx, m.target.y - 0.5 - ty);
        ALPHAS.forEach((alpha, a) => {
          if (error <= alpha * unit) for (const tally of tallies) tally.correct[label][a]++;
          if (error <= alpha * paddedUnit) for (const tally of tallies) tally.padded[label][a]++;
        });
        j.confidence.push(m.confidence);
        j.probability.push(m.probability);
        j.backDistance.push(m.signals.backDistance);
        j.right.push(error <= ALPHA * unit);
      });
    }
    if ((k + 1) % 100 === 0 || k + 1 === pairs.length) progress(`${run.name}: matched ${k + 1}/${pairs.length} pairs`);
  }

  const confidence = Object.fromEntries([...judged].map(([label, j]) => [label, judge(j)]));
  const result = {
    benchmark: 'PF-WILLOW',
    mode: run.mode,
    run: run.name,
    options: run.options ?? model.metadata.matching,
    mirrorTarget: args['mirror-target'],
    split,
    model: model.metadata.head,
    quantization: model.metadata.quantization,
    pairs: pairs.length,
    keypoints: overall.total,
    pck: pck(overall),
    pckPadded: pck(overall, overall.padded),
    perCategory: Object.fromEntries([...perCategory].map(([c, t]) => [c, pck(t)])),
    confidence,
    ...(keptParts().length > 0 && { parts: Object.fromEntries(keptParts().map(([p, t]) => [p, { keypoints: t.total, pck: pck(t) }])) }),
  };
  const runName = [
    'pf-willow',
    run.name !== 'mmnet' && run.name.replaceAll('+', '-'),
    result.quantization !== 'float16' && result.quantization,
    args['mirror-target'] && 'mirror-target',
    split !== 'all' && split,
  ]
    .filter(Boolean)
    .join('-');
  mkdirSync(args.out, { recursive: true });
  const outPath = join(args.out, `${runName}.json`);
  writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);

  console.log(
    `PF-WILLOW${split === 'all' ? '' : ` (${split} split)`}${args['mirror-target'] ? ', targets mirrored' : ''}, ${run.name}, head ${result.model.version}, ` +
      `${pairs.length} pairs, ${overall.total} keypoints → ${outPath}`,
  );
  const table = (title: string, byScale: typeof result.pck) => {
    console.log(`${title.padEnd(8)}${ALPHAS.map((a) => `α=${a.toFixed(2)}`.padStart(8)).join('')}`);
    for (const [s, byAlpha] of Object.entries(byScale)) console.log([s, ...ALPHAS.map((a) => byAlpha[a].toFixed(2))].map((c) => c.padStart(8)).join(''));
  };
  table('ours', result.pck);
  table('padded', result.pckPadded);
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
  const willow = readWillow();
  const pairs = splitPairs(willow, split).slice(0, args.limit ? Number(args.limit) : undefined);
  const model = await loadNodeModel(args.model ?? BUILT_MODEL_DIR);
  const overrides = [JSON.parse(args.matching ?? '{}') as object].flat();
  const hyperpixels = runs.some((r) => r.mode === 'hyper') || overrides.some((o) => 'hyperpixels' in o);
  // The hyperpixels' taps are read at encode time: the first override's (one encode serves every override).
  if (hyperpixels) Object.assign(model.metadata.matching, overrides.find((o) => 'hyperpixels' in o));
  const started = performance.now();
  const progress = (line: string) => process.stderr.write(`${line} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);

  const encodeAll = async (names: string[], read: (name: string) => ReturnType<typeof readPng>) => {
    const features = new Map<string, Features>();
    for (const name of names) {
      features.set(name, await model.encode(read(name), { hyperpixels }));
      if (features.size % 20 === 0 || features.size === names.length) progress(`encoded ${features.size}/${names.length} images`);
    }
    return features;
  };
  const readImage = (name: string) => readWillowImage(willow, name);
  const sources = await encodeAll([...new Set(pairs.flatMap((p) => [p.source, ...(mirrorTarget ? [] : [p.target])]))], readImage);
  const targets = mirrorTarget ? await encodeAll([...new Set(pairs.map((p) => p.target))], (name) => mirrorImage(readImage(name))) : sources;
  // A mirrored target's mirror image is the plain image: the mirror rule needs no encode for it.
  if (mirrorTarget) for (const [name, f] of targets) if (sources.has(name)) f.flipped = laidBack(sources.get(name)!.maps);
  // Each override applies to the metadata as loaded (and the hyperpixels' taps), not on top of the one before.
  const loaded = structuredClone(model.metadata.matching);
  for (const override of overrides) {
    // A field the metadata lacks, set by the override before, must not leak into this one.
    for (const key of Object.keys(model.metadata.matching)) if (!(key in loaded)) delete (model.metadata.matching as unknown as Record<string, unknown>)[key];
    Object.assign(model.metadata.matching, loaded, override);
    if (overrides.length > 1) console.log(`matching ${JSON.stringify(override)}`);
    for (const run of runs) await evaluate(run, willow, pairs, model, { source: sources, target: targets }, progress);
  }
  new Set([...sources.values(), ...targets.values()]).forEach((f) => f.dispose());
  model.dispose();
}

await main();
