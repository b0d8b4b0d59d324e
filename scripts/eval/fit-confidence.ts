/**
 * `npm run fit:confidence`: fits the calibrator of `Match.confidence` on PF-WILLOW's val pairs only
 * (deterministic) and writes models/confidence.json, which `npm run models` copies into the model metadata.
 *
 *   tsx scripts/eval/fit-confidence.ts [--settings fused+hough@s3,mmnet+flip@s2,raw,…] [--signals probability,margin,…]
 *                                      [--model DIR] [--out FILE] [--limit N]
 *
 * `--settings`: the calibration keys to (re)fit (e.g. `fused+hough@s3`, the default prediction), default every
 * mode/scale/flip the library accepts, with and without the consensus (`PREDICTION_SETTINGS`); other
 * keys already in the file are kept. `--signals`: the signals the models read, default all of `SIGNALS`
 * (a signal that never varies in a setting, like raw's scale distance, is left out of it).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  calibrationKey,
  PREDICTION_SETTINGS,
  SIGNALS,
  type CalibratorConstants,
  type ConfidenceCalibration,
  type SignalName,
} from '../../src/model';
import { loadNodeModel } from '../../src/model/node/io';
import { BUILT_MODEL_DIR, CONFIDENCE_FILE } from '../../src/model/testing/paths';
import { auroc, ece, fitLogistic, predictLogistic, type Example } from './calibration';
import { ALPHA, collectMatches } from './confidence-data';
import { encodeImages, progressLog, readWillow, splitPairs } from './willow';

/** The app's words: "likely right" from 70 % up, "probably wrong" below 30 % (the confidence is calibrated). */
const BANDS = { likely: 0.7, unsure: 0.3 };

const { values: args } = parseArgs({
  options: {
    settings: { type: 'string' },
    signals: { type: 'string', default: Object.keys(SIGNALS).join(',') },
    model: { type: 'string' },
    out: { type: 'string', default: CONFIDENCE_FILE },
    limit: { type: 'string' },
  },
});

const settings = args.settings
  ? args.settings.split(',').map((key) => {
      const found = PREDICTION_SETTINGS.find((s) => calibrationKey(s) === key.trim());
      if (!found) throw new Error(`unknown setting ${key}; one of ${PREDICTION_SETTINGS.map(calibrationKey).join(', ')}`);
      return found;
    })
  : PREDICTION_SETTINGS;
const signals = args.signals.split(',').map((name) => {
  if (!(name in SIGNALS)) throw new Error(`unknown signal ${name}; one of ${Object.keys(SIGNALS).join(', ')}`);
  return name as SignalName;
});

async function main(): Promise<void> {
  const willow = readWillow();
  const pairs = splitPairs(willow, 'val').slice(0, args.limit ? Number(args.limit) : undefined);
  const model = await loadNodeModel(args.model ?? BUILT_MODEL_DIR);
  const progress = progressLog();
  // Hyperpixels only for the settings that read them: with `hyperpixels.votes`, images encoded with them would also
  // cast every other setting's consensus votes, and those settings would be fitted on matches they never make.
  const features = await encodeImages(willow, pairs, model, progress);
  const hyperFeatures = settings.some((s) => s.mode === 'hyper') ? await encodeImages(willow, pairs, model, progress, { hyperpixels: true }) : undefined;

  const previous = existsSync(args.out) ? (JSON.parse(readFileSync(args.out, 'utf8')) as ConfidenceCalibration) : undefined;
  const models: Record<string, CalibratorConstants> = { ...previous?.models };
  for (const setting of settings) {
    const key = calibrationKey(setting);
    const matches = await collectMatches(willow, pairs, model, setting.mode === 'hyper' ? hyperFeatures! : features, setting);
    // A signal that never varies here (raw's scale distance) carries nothing.
    const used = signals.filter((name) => new Set(matches.map((m) => m.signals[name])).size > 1);
    const examples: Example[] = matches.map((m) => ({ features: used.map((name) => SIGNALS[name].feature(m.signals[name])), right: m.right }));
    const fit = fitLogistic(
      examples,
      used.map((name) => SIGNALS[name].direction),
    );
    models[key] = { bias: round(fit.bias), weights: Object.fromEntries(used.map((name, k) => [name, round(fit.weights[k])])) };
    const predicted = examples.map((e) => predictLogistic(fit, e.features));
    const right = examples.map((e) => e.right);
    progress(
      `${key}: ${examples.length} keypoints, ${((100 * right.filter(Boolean).length) / right.length).toFixed(1)} % right; ` +
        `fit auroc=${auroc(predicted, right).toFixed(3)} ece=${ece(predicted, right).toFixed(3)}; ${JSON.stringify(models[key])}`,
    );
  }
  for (const f of [...features.values(), ...(hyperFeatures?.values() ?? [])]) f.dispose();
  model.dispose();

  const calibration: ConfidenceCalibration = {
    alpha: ALPHA,
    bands: BANDS,
    fittedOn: `PF-WILLOW val split (${pairs.length} pairs), head ${model.metadata.head.version}, ${model.metadata.quantization}`,
    models: Object.fromEntries(Object.entries(models).sort(([a], [b]) => a.localeCompare(b))),
  };
  writeFileSync(args.out, `${JSON.stringify(calibration, null, 2)}\n`);
  console.log(`wrote ${args.out} (${Object.keys(calibration.models).length} settings); run npm run models to ship it`);
}

/** Six significant digits: enough for the confidence, stable in the file. */
const round = (v: number) => Number(v.toPrecision(6));

await main();
