/**
 * Pseudo-labels for self-training the head (training/distill.py --labels): the shipped default prediction, its
 * geometric consensus included (the query-centred histogram left out), on same-category Caltech-101 pairs, for the
 * centre of every stride-16 source cell.
 *
 *   tsx scripts/train/pseudo-labels.ts --per-class 5 [--max-classes N] [--model DIR] --out labels.json
 *
 * The photos are each class's first `--per-class` JPEGs in name order (training/data.py `load_caltech`'s order),
 * every pair of them in both directions. Points are written in units of the image (x / width, y / height), so
 * they hold at any input size; `back` is the forward–backward distance over the source's longer side.
 * No PF-WILLOW image is read: the labels are free of the evaluation set.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Features } from '../../src/model';
import { denseGrid } from '../../src/app/geometry';
import { loadNodeModel, readJpeg } from '../../src/model/node/io';
import { BUILT_MODEL_DIR, SHARED_DIR } from '../../src/model/testing/paths';
import { progressLog } from '../eval/willow';

const CALTECH_DIR = join(SHARED_DIR, 'datasets', 'caltech101-subset');
/** The default prediction's scale, stride 16: the dense view's grid (`denseGrid`) is its cells' centres. */
const LABEL_SCALE = 3;

const { values: args } = parseArgs({
  options: {
    'per-class': { type: 'string', default: '5' },
    'max-classes': { type: 'string' },
    model: { type: 'string', default: BUILT_MODEL_DIR },
    out: { type: 'string' },
  },
});
if (!args.out) throw new Error('--out FILE is required');

/** Each class's first photos, in load_caltech's order (classes and files sorted by name). */
function photosByClass(perClass: number, maxClasses?: number): string[][] {
  const classes = readdirSync(CALTECH_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .slice(0, maxClasses);
  return classes.map((c) =>
    readdirSync(join(CALTECH_DIR, c))
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .slice(0, perClass)
      .map((f) => `${c}/${f}`),
  );
}

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

async function main() {
  const progress = progressLog();
  const groups = photosByClass(Number(args['per-class']), args['max-classes'] ? Number(args['max-classes']) : undefined);
  const photos = groups.flat();
  const model = await loadNodeModel(args.model!);
  const features = new Map<string, { features: Features; width: number; height: number }>();
  for (const photo of photos) {
    const image = readJpeg(join(CALTECH_DIR, photo));
    features.set(photo, { features: await model.encode(image), width: image.width, height: image.height });
    if (features.size % 50 === 0) progress(`encoded ${features.size}/${photos.length}`);
  }

  const direction = async (a: string, b: string) => {
    const source = features.get(a)!;
    const target = features.get(b)!;
    // Without the query-centred histogram, as the app's dense view asks: it recasts the pair's votes for every
    // point (1.3 s a grid against 0.15 s), and moves few of them (docs/geometry.md, round 6).
    const matches = await model.match(source.features, target.features, denseGrid(source.width, source.height), {
      scale: LABEL_SCALE,
      local: false,
    });
    return {
      x: matches.map((m) => round4(m.target.x / target.width)),
      y: matches.map((m) => round4(m.target.y / target.height)),
      confidence: matches.map((m) => round4(m.confidence)),
      back: matches.map((m) => round4(m.backError / Math.max(source.width, source.height))),
    };
  };
  const pairs = [];
  for (const group of groups)
    for (let i = 0; i < group.length; i++)
      for (let j = i + 1; j < group.length; j++) {
        pairs.push({ a: group[i], b: group[j], ab: await direction(group[i], group[j]), ba: await direction(group[j], group[i]) });
        if (pairs.length % 100 === 0) progress(`labelled ${pairs.length} pairs`);
      }
  for (const { features: f } of features.values()) f.dispose();
  writeFileSync(args.out!, JSON.stringify({ scale: LABEL_SCALE, model: args.model, photos, pairs }));
  progress(`wrote ${pairs.length} pairs to ${args.out}`);
}

await main();
