/** PF-WILLOW for the eval CLIs: the dataset, its held-out split, the PCK units, mirrored targets. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { HYPERPIXEL_STRIDE, RAW_STRIDE, SCALES } from '../../src/model/constants';
import { gridOf, type FeatureMaps, type FlatMap } from '../../src/model/matching';
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


/** PCK threshold unit: the larger side of the bounding box of the target's keypoints. */
export function boxSize(keypoints: [number, number][]): number {
  const xs = keypoints.map((k) => k[0]);
  const ys = keypoints.map((k) => k[1]);
  return Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
}

/** The DHPF/CHM/CATs code's unit: the same box after padding the keypoint list with (−2, −2). */
const PADDING_KEYPOINT: [number, number] = [-2, -2];
export const paddedBoxSize = (keypoints: [number, number][]) => boxSize([...keypoints, PADDING_KEYPOINT]);

/** A target image and its keypoints mirrored: pixel column x → W − 1 − x. */
export function mirrorImage(image: { data: Uint8Array; width: number; height: number }): typeof image {
  const { data, width, height } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) out.set(data.subarray((y * width + x) * 4, (y * width + x + 1) * 4), (y * width + width - 1 - x) * 4);
  return { data: out, width, height };
}
export const mirrorKeypoints = (keypoints: [number, number][], width: number): [number, number][] => keypoints.map(([x, y]) => [width - 1 - x, y]);


const splitImages = JSON.parse(readFileSync(SPLIT_FILE, 'utf8')) as Record<Part, string[]>;
export const partSets = (['val', 'test'] as const).map((part) => [part, new Set(splitImages[part])] as const);

/** The part holding both images of a pair; mixed pairs belong to none. */
export function partOf(pair: { source: string; target: string }): Part | undefined {
  return partSets.find(([, images]) => images.has(pair.source) && images.has(pair.target))?.[0];
}

export const readWillow = (): Willow => JSON.parse(readFileSync(join(WILLOW_DIR, 'pf-willow.json'), 'utf8')) as Willow;

/** The pairs of a split (all: the 900 standard pairs). */
export const splitPairs = (willow: Willow, split: Split) => willow.pairs.filter((p) => split === 'all' || partOf(p) === split);

/** An image of the dataset as RGBA pixels. */
export const readWillowImage = (willow: Willow, name: string) => readPng(join(WILLOW_DIR, willow.images[name].file));

/** The maps of an image's mirror, laid back on its cells: its mirrored copy's maps with columns reversed. */
export const laidBack = (maps: FeatureMaps): FeatureMaps => {
  const reversed = (m: FlatMap, stride: number): FlatMap =>
    tf.tidy(() => {
      const { height, width } = gridOf(stride);
      const cells = tf.reshape(tf.reverse(tf.reshape(m.cells, [height, width, -1]), 1), [height * width, -1]) as tf.Tensor2D;
      return { cells, channels: tf.transpose(cells) };
    });
  return {
    head: maps.head.map((m, k) => reversed(m, SCALES[k].stride)),
    raw: reversed(maps.raw, RAW_STRIDE),
    ...(maps.hyper && { hyper: reversed(maps.hyper, HYPERPIXEL_STRIDE) }),
  };
};

/** The source keypoints as continuous queries (pixel centres). */
export const queriesOf = (willow: Willow, pair: Willow['pairs'][number]): Point[] =>
  willow.images[pair.source].keypoints.map(([x, y]) => ({ x: x + 0.5, y: y + 0.5 }));

/** Each prediction's distance to its target keypoint, in units of the target's keypoint box (ours). */
export function boxErrors(keypoints: [number, number][], predictions: readonly Point[]): number[] {
  const unit = boxSize(keypoints);
  return predictions.map((p, n) => Math.hypot(p.x - 0.5 - keypoints[n][0], p.y - 0.5 - keypoints[n][1]) / unit);
}

/** Every image of the pairs, encoded once. */
export async function encodeImages(
  willow: Willow,
  pairs: Willow['pairs'],
  model: MMNet,
  progress: (line: string) => void,
  { hyperpixels = false } = {},
): Promise<Map<string, Features>> {
  const names = [...new Set(pairs.flatMap((p) => [p.source, p.target]))];
  const features = new Map<string, Features>();
  for (const name of names) {
    features.set(name, await model.encode(readWillowImage(willow, name), { hyperpixels }));
    if (features.size % 20 === 0 || features.size === names.length) progress(`encoded ${features.size}/${names.length} images`);
  }
  return features;
}

/** A progress printer to stderr with the seconds since it was made. */
export function progressLog(): (line: string) => void {
  const started = performance.now();
  return (line) => process.stderr.write(`${line} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
}
