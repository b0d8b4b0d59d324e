// Third-round experiment: Platt scaling on out-of-fold scores, nested CV. npx tsx scripts/eval/experiment-platt.ts eval/sel5.json
import { readFileSync } from 'node:fs';
import { SIGNALS, type MatchSignals, type SignalName } from '../../src/model';
import { auroc, ece, fitLogistic, type Example, type LogisticFit } from './calibration';
import { readWillow, splitPairs } from './willow';
interface Judged { source: string; signals: MatchSignals; right: boolean; error: number }
const judged = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Judged[];
const pairs = splitPairs(readWillow(), 'val');
const cat = (k: number) => pairs[Math.floor(k / 10)].category;
const right = judged.map((j) => j.right);
const base = 'probability,margin,entropy,backDistance,scaleDistance,support,agreement,weightedEntropy,rawCosine,spread'.split(',') as SignalName[];
const feats = judged.map((j) => base.map((n) => SIGNALS[n].feature(j.signals[n])));
const dirs = base.map((n) => SIGNALS[n].direction);
const logit = (fit: LogisticFit, x: number[]) => fit.bias + x.reduce((s, v, k) => s + v * fit.weights[k], 0);
const sig = (z: number) => 1 / (1 + Math.exp(-z));
const fitOn = (idx: number[]) => fitLogistic(idx.map((k) => ({ features: feats[k], right: right[k] })), dirs);
function groupsOf(idx: number[], g: (k: number) => string) { const m = new Map<string, number[]>(); for (const k of idx) { const key = g(k); m.set(key, [...(m.get(key) ?? []), k]); } return [...m.values()]; }
function predict(train: number[], test: number[], inner?: (k: number) => string): number[] {
  const fit = fitOn(train);
  if (!inner) return test.map((k) => sig(logit(fit, feats[k])));
  const oof: Example[] = [];
  for (const g of groupsOf(train, inner)) {
    const gs = new Set(g);
    const f = fitOn(train.filter((k) => !gs.has(k)));
    for (const k of g) oof.push({ features: [logit(f, feats[k])], right: right[k] });
  }
  const platt = fitLogistic(oof, [1]);
  return test.map((k) => sig(platt.bias + platt.weights[0] * logit(fit, feats[k])));
}
const all = judged.map((_, k) => k);
const images = [...new Set(judged.map((j) => j.source))].sort();
const byImage = (k: number) => String(images.indexOf(judged[k].source) % 5);
for (const [oname, outer] of [['image', byImage], ['category', cat]] as const) {
  for (const [iname, inner] of [['none', undefined], ['image', byImage], ['category', cat], ['pair', (k: number) => String(Math.floor(k / 10))]] as const) {
    const pred = new Array<number>(all.length);
    for (const g of groupsOf(all, outer)) { const gs = new Set(g); const p = predict(all.filter((k) => !gs.has(k)), g, inner); g.forEach((k, n) => (pred[k] = p[n])); }
    console.log(`outer ${oname} inner platt ${iname}: auroc=${auroc(pred, right).toFixed(3)} ece=${ece(pred, right).toFixed(3)}`);
  }
}
