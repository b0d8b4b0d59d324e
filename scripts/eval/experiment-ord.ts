// Third-round experiment: one logistic fitted over several PCK thresholds (shared weights). npx tsx scripts/eval/experiment-ord.ts eval/sel5.json
import { readFileSync } from 'node:fs';
import { SIGNALS, type MatchSignals, type SignalName } from '../../src/model';
import { auroc, ece, fitLogistic, predictLogistic, type Example } from './calibration';
interface Judged { source: string; signals: MatchSignals; right: boolean; error: number }
const judged = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Judged[];
const right = judged.map((j) => j.right);
const base = (process.argv[3] ?? 'probability,margin,entropy,backDistance,scaleDistance,support,agreement,weightedEntropy,rawCosine,spread').split(',') as SignalName[];
const images = [...new Set(judged.map((j) => j.source))].sort();
const foldOf = new Map(images.map((n, k) => [n, k % 5]));
const feats = judged.map((j) => base.map((n) => SIGNALS[n].feature(j.signals[n])));
const dirs = base.map((n) => SIGNALS[n].direction);
function cv(alphas: number[]) {
  const pred = new Array<number>(judged.length);
  const others = alphas.filter((a) => a !== 0.1);
  for (let f = 0; f < 5; f++) {
    const held = (k: number) => foldOf.get(judged[k].source) === f;
    const ex: Example[] = [];
    judged.forEach((j, k) => {
      if (held(k)) return;
      for (const a of alphas) ex.push({ features: [...feats[k], ...others.map((o) => (o === a ? 1 : 0))], right: j.error <= a });
    });
    const fit = fitLogistic(ex, [...dirs, ...others.map((o) => (o > 0.1 ? 1 : -1))] as (1 | -1)[]);
    judged.forEach((_, k) => { if (held(k)) pred[k] = predictLogistic(fit, [...feats[k], ...others.map(() => 0)]); });
  }
  return `auroc=${auroc(pred, right).toFixed(3)} ece=${ece(pred, right).toFixed(3)}`;
}
for (const alphas of [[0.1], [0.075, 0.1, 0.125], [0.05, 0.1, 0.15], [0.05, 0.075, 0.1, 0.125, 0.15, 0.2], [0.05, 0.1, 0.15, 0.2, 0.3], [0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.3, 0.5]])
  console.log(alphas.join(','), cv(alphas));
const wrong = judged.filter((j) => !j.right).map((j) => j.error).sort((a, b) => a - b);
console.log('wrong errors quantiles', [0.1, 0.25, 0.33, 0.5, 0.75, 0.9].map((q) => wrong[Math.floor(q * wrong.length)].toFixed(3)).join(' '));
