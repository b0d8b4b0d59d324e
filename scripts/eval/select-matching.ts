/**
 * `npx tsx scripts/eval/select-matching.ts`: chooses models/matching.json's consensus constants on the
 * selection split (PF-WILLOW `val`, never `test`), fused rows at the default scale.
 *
 *   tsx scripts/eval/select-matching.ts [--sigma 0.5,1,2] [--weight 2,4,8,16] [--margin 1,1.05,1.1,1.2]
 *                                       [--mirror-sigma 0.5,1] [--mirror-border 0,1,2,3] [--model DIR]
 *
 * Every val image is encoded once, plain and mirrored. For each (σ, weight) every pair is matched with the
 * target always and never taken as mirrored (the mirror image's maps are the other copy's, laid back), on the plain targets and on the mirrored ones; the mirror
 * rule's margins are then scored from each pair's consensus strengths (`explained`, for every mirror σ and border)
 * without matching again. Prints PCK at α = 0.05/0.10/0.15 (ours) for: no consensus, the consensus alone, and the
 * consensus with each margin, plain and with every target mirrored.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_SCALE, type Features, type Point } from '../../src/model';
import { pairConsensus } from '../../src/model/consensus';
import { loadNodeModel } from '../../src/model/node/io';
import { BUILT_MODEL_DIR } from '../../src/model/testing/paths';
import { boxSize, laidBack, mirrorImage, mirrorKeypoints, readWillow, readWillowImage, splitPairs } from './willow';

const { values: args } = parseArgs({
  options: {
    sigma: { type: 'string', default: '0.5,1,2' },
    weight: { type: 'string', default: '2,4,8,16' },
    margin: { type: 'string', default: '1,1.05,1.1,1.2,1.5' },
    'mirror-sigma': { type: 'string', default: '0.5,1' },
    'mirror-border': { type: 'string', default: '0,1,2,3' },
    model: { type: 'string' },
  },
});
const list = (s: string) => s.split(',').map(Number);
const ALPHAS = [0.05, 0.1, 0.15];

const willow = readWillow();
const pairs = splitPairs(willow, 'val');
const model = await loadNodeModel(args.model ?? BUILT_MODEL_DIR);
const names = [...new Set(pairs.flatMap((p) => [p.source, p.target]))];
const plain = new Map<string, Features>();
const mirrored = new Map<string, Features>();
for (const name of names) {
  plain.set(name, await model.encode(readWillowImage(willow, name)));
  mirrored.set(name, await model.encode(mirrorImage(readWillowImage(willow, name))));
  process.stderr.write(`encoded ${plain.size}/${names.length}\r`);
}
// What the mirror rule would encode (`Features.flipped`), without encoding: the other copy's maps.
for (const name of names) {
  plain.get(name)!.flipped = laidBack(mirrored.get(name)!.maps);
  mirrored.get(name)!.flipped = laidBack(plain.get(name)!.maps);
}

/** Correct counts per α of one pair's keypoints. */
type Counts = number[];
const add = (a: Counts, b: Counts) => a.map((v, k) => v + b[k]);
const percent = (c: Counts, total: number) => c.map((v) => ((100 * v) / total).toFixed(2).padStart(7)).join('');

async function pairCounts(pair: (typeof pairs)[number], flipTargets: boolean, options: { consensus: boolean; mirror: boolean }): Promise<Counts> {
  const source = willow.images[pair.source];
  const target = willow.images[pair.target];
  const keypoints = flipTargets ? mirrorKeypoints(target.keypoints, target.width) : target.keypoints;
  const queries: Point[] = source.keypoints.map(([x, y]) => ({ x: x + 0.5, y: y + 0.5 }));
  const targetFeatures = (flipTargets ? mirrored : plain).get(pair.target)!;
  const matches = await model.match(plain.get(pair.source)!, targetFeatures, queries, { scale: DEFAULT_SCALE, mode: 'fused', flip: false, ...options });
  const unit = boxSize(keypoints);
  return ALPHAS.map((a) => matches.filter((m, n) => Math.hypot(m.target.x - 0.5 - keypoints[n][0], m.target.y - 0.5 - keypoints[n][1]) <= a * unit).length);
}

const total = pairs.reduce((n, p) => n + willow.images[p.source].keypoints.length, 0);
const matching = model.metadata.matching;
console.log(`PF-WILLOW val, ${pairs.length} pairs, ${total} keypoints, fused s${DEFAULT_SCALE}; PCK ours at α = ${ALPHAS.join('/')}: plain | targets mirrored`);
for (const flipTargets of [false, true]) {
  let none = [0, 0, 0];
  for (const pair of pairs) none = add(none, await pairCounts(pair, flipTargets, { consensus: false, mirror: false }));
  console.log(`no consensus${flipTargets ? ' (targets mirrored)' : ''}: ${percent(none, total)}`);
}
/** Per (mirror σ, border), each pair's mirrored/plain strength, plain and with the target mirrored. */
const rules = list(args['mirror-sigma']).flatMap((mirrorSigma) => list(args['mirror-border']).map((mirrorBorder) => ({ mirrorSigma, mirrorBorder })));
const ratios = new Map<(typeof rules)[number], Map<(typeof pairs)[number], { plain: number; flipped: number }>>();
for (const rule of rules) {
  const byPair = new Map<(typeof pairs)[number], { plain: number; flipped: number }>();
  for (const pair of pairs) {
    const ratio = async (targets: Map<string, Features>) => {
      const target = targets.get(pair.target)!;
      const c = await pairConsensus(plain.get(pair.source)!.maps, target.maps, target.flipped!, { ...matching, ...rule });
      return c.mirrored.explained / c.plain.explained;
    };
    byPair.set(pair, { plain: await ratio(plain), flipped: await ratio(mirrored) });
  }
  ratios.set(rule, byPair);
}
for (const sigma of list(args.sigma)) {
  for (const weight of list(args.weight)) {
    Object.assign(matching, { sigma, weight, mirrorMargin: 0 }); // mirror: true is "always mirrored"
    const perPair = new Map<(typeof pairs)[number], Counts[]>();
    for (const pair of pairs) {
      const counts: Counts[] = [];
      for (const flipTargets of [false, true]) {
        counts.push(await pairCounts(pair, flipTargets, { consensus: true, mirror: false }));
        counts.push(await pairCounts(pair, flipTargets, { consensus: true, mirror: true }));
      }
      perPair.set(pair, counts); // [plain never, plain always, flipped never, flipped always]
    }
    const sum = (pick: (pair: (typeof pairs)[number], c: Counts[]) => Counts) => [...perPair].reduce((acc, [p, c]) => add(acc, pick(p, c)), [0, 0, 0]);
    console.log(`σ=${sigma} weight=${weight} consensus alone: ${percent(sum((_, c) => c[0]), total)} | ${percent(sum((_, c) => c[2]), total)}`);
    for (const [{ mirrorSigma, mirrorBorder }, byPair] of ratios) {
      for (const margin of list(args.margin)) {
        const onPlain = sum((p, c) => (byPair.get(p)!.plain > margin ? c[1] : c[0]));
        const onFlipped = sum((p, c) => (byPair.get(p)!.flipped > margin ? c[3] : c[2]));
        const rule = `mirror σ=${mirrorSigma} border=${mirrorBorder} margin ${margin}`;
        console.log(`σ=${sigma} weight=${weight} ${rule}: ${percent(onPlain, total)} | ${percent(onFlipped, total)}`);
      }
    }
  }
}
plain.forEach((f) => f.dispose());
mirrored.forEach((f) => f.dispose());
model.dispose();
