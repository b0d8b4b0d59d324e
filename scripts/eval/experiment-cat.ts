// Third-round experiment: CV grouped by category vs by pair, pair-level signals. npx tsx scripts/eval/experiment-cat.ts eval/sel5.json
import { readFileSync } from 'node:fs';
import { SIGNALS, type MatchSignals, type SignalName } from '../../src/model';
import { auroc, ece, fitLogistic, predictLogistic, type Example } from './calibration';
import { readWillow, splitPairs } from './willow';
interface Judged { source: string; signals: MatchSignals; right: boolean }
const judged = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Judged[];
const willow = readWillow();
const pairs = splitPairs(willow, 'val');
const cat = (k: number) => pairs[Math.floor(k / 10)].category;
const right = judged.map((j) => j.right);
function cv(set: SignalName[], group: (k: number) => string) {
  const groups = [...new Set(judged.map((_, k) => group(k)))].sort();
  const ex: Example[] = judged.map((j) => ({ features: set.map((n) => SIGNALS[n].feature(j.signals[n])), right: j.right }));
  const pred = new Array<number>(ex.length);
  for (const g of groups) {
    const held = (k: number) => group(k) === g;
    const fit = fitLogistic(ex.filter((_, k) => !held(k)), set.map((n) => SIGNALS[n].direction));
    ex.forEach((e, k) => { if (held(k)) pred[k] = predictLogistic(fit, e.features); });
  }
  return `auroc=${auroc(pred, right).toFixed(3)} ece=${ece(pred, right).toFixed(3)}`;
}
const base = 'probability,margin,entropy,backDistance,scaleDistance,support,agreement,weightedEntropy,rawCosine,spread'.split(',') as SignalName[];
const pairLevel = ['houghEntropy', 'explained', 'mutualRate', 'bestCosine', 'meanEntropy'] as SignalName[];
const sets: [string, SignalName[]][] = [['base', base], ['base-agreement', base.filter((n) => n !== 'agreement')], ...pairLevel.map((n): [string, SignalName[]] => ['+' + n, [...base, n]]), ['+pairLevel', [...base, ...pairLevel]], ['+all', Object.keys(SIGNALS) as SignalName[]]];
for (const [name, set] of sets) console.log(name.padEnd(16), 'by category', cv(set, cat), ' by pair', cv(set, (k) => String(Math.floor(k / 10))));
// per-category base rates
const byCat: Record<string, number[]> = {};
judged.forEach((j, k) => (byCat[cat(k)] ??= []).push(j.right ? 1 : 0));
console.log(Object.entries(byCat).map(([c, v]) => `${c} ${(v.reduce((a, b) => a + b) / v.length).toFixed(2)}`).join('; '));
