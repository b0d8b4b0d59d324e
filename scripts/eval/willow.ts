/** PF-WILLOW for the eval CLIs: the pairs, the held-out split, the images encoded once, the PCK criterion. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Features, MMNet, Point } from '../../src/model';
import { readPng } from '../../src/model/node/io';
import { REPO_ROOT, SHARED_DIR } from '../../src/model/testing/paths';

const WILLOW_DIR = join(SHARED_DIR, 'datasets', 'pf-willow');
const SPLIT_FILE = join(REPO_ROOT, 'scripts', 'eval', 'pf-willow-split.json');
export const SPLITS = ['all', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];
export type Part = Exclude<Split, 'all'>;

export interface Willow {
  images: Record<string, { file: string; width: number; height: number; keypoints: [number, number][] }>;
  pairs: { source: string; target: string; category: string }[];
}
export type Pair = Willow['pairs'][number];

export const loadWillow = (): Willow => JSON.parse(readFileSync(join(WILLOW_DIR, 'pf-willow.json'), 'utf8')) as Willow;

const splitImages = JSON.parse(readFileSync(SPLIT_FILE, 'utf8')) as Record<Part, string[]>;
export const partSets = (['val', 'test'] as const).map((part) => [part, new Set(splitImages[part])] as const);

/** The part holding both images of a pair; mixed pairs belong to none. */
export function partOf(pair: Pair): Part | undefined {
  return partSets.find(([, images]) => images.has(pair.source) && images.has(pair.target))?.[0];
}

/** The pairs of a split (`all`: the 900 standard pairs), the first `limit` of them when given. */
export const pairsOf = (willow: Willow, split: Split, limit?: number): Pair[] =>
  willow.pairs.filter((p) => split === 'all' || partOf(p) === split).slice(0, limit);

/** PCK threshold unit: the larger side of the bounding box of the target's keypoints. */
export function boxSize(keypoints: [number, number][]): number {
  const xs = keypoints.map((k) => k[0]);
  const ys = keypoints.map((k) => k[1]);
  return Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
}

/** The source keypoints as continuous queries (pixel centres). */
export const queriesOf = (willow: Willow, pair: Pair): Point[] => willow.images[pair.source].keypoints.map(([x, y]) => ({ x: x + 0.5, y: y + 0.5 }));

/** Each prediction's distance to its target keypoint, in units of the target's keypoint box. */
export function boxErrors(willow: Willow, pair: Pair, predictions: readonly Point[]): number[] {
  const { keypoints } = willow.images[pair.target];
  const unit = boxSize(keypoints);
  return predictions.map((p, n) => Math.hypot(p.x - 0.5 - keypoints[n][0], p.y - 0.5 - keypoints[n][1]) / unit);
}

/** Every image of the pairs, encoded once. */
export async function encodeImages(willow: Willow, pairs: readonly Pair[], model: MMNet, progress: (line: string) => void): Promise<Map<string, Features>> {
  const names = [...new Set(pairs.flatMap((p) => [p.source, p.target]))];
  const features = new Map<string, Features>();
  for (const [k, name] of names.entries()) {
    features.set(name, await model.encode(readPng(join(WILLOW_DIR, willow.images[name].file))));
    if ((k + 1) % 20 === 0 || k + 1 === names.length) progress(`encoded ${k + 1}/${names.length} images`);
  }
  return features;
}

/** A progress printer to stderr with the seconds since it was made. */
export function progressLog(): (line: string) => void {
  const started = performance.now();
  return (line) => process.stderr.write(`${line} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
}
