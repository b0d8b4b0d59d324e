// Third-round experiment: the true target box size as an oracle signal. npx tsx scripts/eval/experiment-oracle.ts eval/sel5.json
import { readFileSync } from 'node:fs';
import { SIGNALS, type MatchSignals, type SignalName } from '../../src/model';
import { auroc, ece, fitLogistic, predictLogistic, type Example } from './calibration';
import { boxSize, readWillow, splitPairs } from './willow';
interface Judged { source: string; signals: MatchSignals; right: boolean }
const judged = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Judged[];
const willow = readWillow();
const pairs = splitPairs(willow, 'val');
const extra: Record<string, (k: number) => number> = {
  logBox: (k) => { const t = willow.images[pairs[Math.floor(k / 10)].target]; return Math.log(boxSize(t.keypoints) / Math.max(t.width, t.height)); },
  logSrcBox: (k) => { const t = willow.images[pairs[Math.floor(k / 10)].source]; return Math.log(boxSize(t.keypoints) / Math.max(t.width, t.height)); },
};
const base = (process.argv[3] ?? Object.keys(SIGNALS).join(',')).split(',') as SignalName[];
const right = judged.map((j) => j.right);
function cv(cols: ((k: number) => number)[], dirs: number[]) {
  const images = [...new Set(judged.map((j) => j.source))].sort();
  const foldOf = new Map(images.map((n, k) => [n, k % 5]));
  const ex: Example[] = judged.map((j, k) => ({ features: cols.map((c) => c(k)), right: j.right }));
  const pred = new Array<number>(ex.length);
  for (let f = 0; f < 5; f++) {
    const held = (k: number) => foldOf.get(judged[k].source) === f;
    const fit = fitLogistic(ex.filter((_, k) => !held(k)), dirs as (1 | -1)[]);
    ex.forEach((e, k) => { if (held(k)) pred[k] = predictLogistic(fit, e.features); });
  }
  return `auroc=${auroc(pred, right).toFixed(3)} ece=${ece(pred, right).toFixed(3)}`;
}
const cols = base.map((n) => (k: number) => SIGNALS[n].feature(judged[k].signals[n]));
const dirs = base.map((n) => SIGNALS[n].direction);
console.log('base', cv(cols, dirs));
for (const [name, f] of Object.entries(extra)) {
  console.log(name, 'alone', auroc(judged.map((_, k) => f(k)), right).toFixed(3), cv([...cols, f], [...dirs, 1]));
}
