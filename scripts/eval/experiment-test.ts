// Third-round experiment: val-fitted candidate sets judged once on test. npx tsx scripts/eval/experiment-test.ts eval/sel5.json "BASE;BASE,neighbourEntropy;…"
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { SIGNALS, type MatchSignals, type SignalName, PREDICTION_SETTINGS, calibrationKey } from '../../src/model';
import { loadNodeModel } from '../../src/model/node/io';
import { BUILT_MODEL_DIR } from '../../src/model/testing/paths';
import { auroc, ece, fitLogistic, predictLogistic } from './calibration';
import { collectMatches } from './confidence-data';
import { encodeImages, progressLog, readWillow, splitPairs } from './willow';
interface Judged { source: string; signals: MatchSignals; right: boolean; error: number }
const cache = 'eval/test-signals.json';
async function collect(): Promise<Judged[]> {
  const willow = readWillow();
  const pairs = splitPairs(willow, 'test');
  const model = await loadNodeModel(BUILT_MODEL_DIR);
  const progress = progressLog();
  const features = await encodeImages(willow, pairs, model, progress);
  const setting = PREDICTION_SETTINGS.find((s) => calibrationKey(s) === 'fused+hough@s3')!;
  const out: Judged[] = [];
  for (const pair of pairs) out.push(...(await collectMatches(willow, [pair], model, features, setting)).map((m) => ({ source: pair.source, signals: m.signals, right: m.right, error: m.error })));
  progress('matched');
  return out;
}
const test = existsSync(cache) ? (JSON.parse(readFileSync(cache, 'utf8')) as Judged[]) : await collect();
writeFileSync(cache, JSON.stringify(test));
const val = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Judged[];
const base = 'probability,margin,entropy,backDistance,scaleDistance,support,agreement,weightedEntropy,rawCosine,spread'.split(',');
const sets = (process.argv[3] ?? '').split(';').map((s) => s.split(',').filter(Boolean).map((n) => n === 'BASE' ? base : [n]).flat() as SignalName[]);
console.log(`test ${test.length} keypoints, ${(100 * test.filter((j) => j.right).length / test.length).toFixed(1)} % right`);
for (const set of sets) {
  const f = (j: Judged) => set.map((n) => SIGNALS[n].feature(j.signals[n]));
  const fit = fitLogistic(val.map((j) => ({ features: f(j), right: j.right })), set.map((n) => SIGNALS[n].direction));
  const p = test.map((j) => predictLogistic(fit, f(j)));
  const r = test.map((j) => j.right);
  console.log(`test auroc=${auroc(p, r).toFixed(3)} ece=${ece(p, r).toFixed(3)}  ${set.join(',')}`);
}
