import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { readFeatures, serializeFeatures } from './feature-file';
import type { FeatureMaps } from './matching';
import { Features } from './features';
import { Matcher } from './matcher';
import type { MMNet } from './mmnet';
import { loadNodeModel, readJpeg } from './node/io';
import { randomValues } from './testing/backends';
import { BUILT_MODEL_DIR, SHARED_DIR } from './testing/paths';
import type { Point } from './types';

const WIDTH = 30;
const HEIGHT = 20;
const pixels = { data: new Uint8Array(WIDTH * HEIGHT * 4).fill(128), width: WIDTH, height: HEIGHT };

/** Maps with an extra nested map and a plain tensor, as a later per-pair addition would bring. */
function syntheticMaps(): FeatureMaps & { extra: { consensus: tf.Tensor } } {
  const flat = (rows: number, channels: number, seed: number) => {
    // Channels of very different ranges: one scale per channel must keep the small ones.
    const values = randomValues(rows * channels, seed).map((v, k) => v * 10 ** ((k % channels) % 4) * 0.01);
    const cells = tf.tensor2d(values, [rows, channels]);
    return { cells, channels: tf.transpose(cells) };
  };
  return {
    head: [flat(12, 5, 1), flat(6, 5, 2)],
    raw: flat(6, 7, 3),
    extra: { consensus: tf.tensor3d(randomValues(2 * 3 * 4, 4), [2, 3, 4]) },
  };
}

describe('feature file', () => {
  beforeAll(() => selectBackend({ backend: 'wasm' }));

  it('round-trips every tensor of the maps within half a step of each channel, and frees what it made', async () => {
    const before = tf.memory().numTensors;
    const maps = syntheticMaps();
    const input = tf.zeros([1, 224, 320, 3]) as tf.Tensor4D;
    const original = new Features(maps, input, WIDTH, HEIGHT);
    const bytes = await serializeFeatures(original);
    const read = await readFeatures(bytes, pixels);
    expect([read.width, read.height]).toEqual([WIDTH, HEIGHT]);

    const readMaps = read.maps as typeof maps;
    const pairs: [tf.Tensor, tf.Tensor][] = [
      ...maps.head.map((m, s): [tf.Tensor, tf.Tensor] => [m.cells, readMaps.head[s].cells]),
      [maps.raw.cells, readMaps.raw.cells],
      [maps.extra.consensus, readMaps.extra.consensus],
    ];
    for (const [a, b] of pairs) {
      expect(b.shape).toEqual(a.shape);
      const channels = a.shape[a.shape.length - 1];
      const [x, y] = [await a.data(), await b.data()];
      for (let c = 0; c < channels; c++) {
        let max = 0;
        let error = 0;
        for (let k = c; k < x.length; k += channels) {
          max = Math.max(max, Math.abs(x[k]));
          error = Math.max(error, Math.abs(x[k] - y[k]));
        }
        expect(error).toBeLessThanOrEqual((max / 127) * 0.5 + 1e-7);
      }
    }
    // The channel-major copy is rebuilt, not stored.
    const transposed = tf.transpose(readMaps.raw.cells);
    expect(await readMaps.raw.channels.array()).toEqual(await transposed.array());

    // Features.dispose knows the maps it made; the extra ones are the caller's here.
    tf.dispose([transposed, maps.extra.consensus, readMaps.extra.consensus]);
    original.dispose();
    read.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a photo of another size, a truncated file and a file of another kind', async () => {
    const before = tf.memory().numTensors;
    const maps = syntheticMaps();
    const original = new Features(maps, tf.zeros([1, 224, 320, 3]) as tf.Tensor4D, WIDTH, HEIGHT);
    const bytes = await serializeFeatures(original);
    original.dispose();
    maps.extra.consensus.dispose();
    await expect(readFeatures(bytes, { ...pixels, width: HEIGHT, height: WIDTH })).rejects.toThrow(/30×20 image, not 20×30/);
    await expect(readFeatures(bytes.subarray(0, bytes.length - 4), pixels)).rejects.toThrow(/header says/);
    await expect(readFeatures(new Uint8Array(64), pixels)).rejects.toThrow(/not a features file/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** The shipped examples' features (`npm run models`), by photo name (`<category>-<file>`). */
const shippedDir = join(BUILT_MODEL_DIR, 'examples');
const shipped = existsSync(shippedDir) ? readdirSync(shippedDir).filter((f) => f.endsWith('.features')) : [];
const photoOf = (featuresFile: string) => {
  const name = featuresFile.replace(/\.features$/, '');
  const cut = name.lastIndexOf('-');
  return join(SHARED_DIR, 'datasets/caltech101-subset', name.slice(0, cut), name.slice(cut + 1));
};

/** A 6×6 grid over the image, inside a 10 % margin. */
const gridPoints = (width: number, height: number): Point[] =>
  Array.from({ length: 36 }, (_, k) => ({ x: width * (0.1 + 0.16 * (k % 6)), y: height * (0.1 + 0.16 * Math.floor(k / 6)) }));

describe('the shipped example features', () => {
  let model: MMNet;
  beforeAll(async () => {
    model = await loadNodeModel(BUILT_MODEL_DIR);
  }, 120_000);
  afterAll(() => model?.dispose());

  it('exist for every example photo, at most 1 MiB a pair', () => {
    expect(shipped.length).toBeGreaterThanOrEqual(6);
    for (const file of shipped) expect(readFileSync(join(shippedDir, file)).byteLength).toBeLessThanOrEqual(2 ** 20 / 2);
  });

  it('match as a fresh encode does: the same cell for nearly every point, near-ties where not', async () => {
    // Pairs: consecutive photos of a category, as scripts/build/example-pairs.ts lists them.
    const byCategory = new Map<string, string[]>();
    for (const f of shipped.sort()) byCategory.set(dirname(photoOf(f)), [...(byCategory.get(dirname(photoOf(f))) ?? []), f]);
    let same = 0;
    let total = 0;
    for (const files of byCategory.values()) {
      const [source, target] = files.map((f) => readJpeg(photoOf(f)));
      const fresh = [await model.encode(source), await model.encode(target)];
      const read = await Promise.all(files.map((f, k) => readFeatures(readFileSync(join(shippedDir, f)), [source, target][k])));
      const points = gridPoints(source.width, source.height);
      // Without weights, as the app matches the shipped features before the model has loaded.
      const matcher = new Matcher(model.metadata);
      const [expected] = await matcher.matchMany([{ source: fresh[0], target: fresh[1], points }]);
      const [actual] = await matcher.matchMany([{ source: read[0], target: read[1], points }]);
      actual.forEach((m, n) => {
        total++;
        if (m.cell.join() === expected[n].cell.join()) same++;
        // Where the argmax moved, two cells were nearly tied: the peak's probability is all but the same.
        else expect(Math.abs(m.probability - expected[n].probability)).toBeLessThan(0.01);
      });
      for (const f of [...fresh, ...read]) f.dispose();
    }
    // Measured: 142 of 144 (the other two near-ties).
    expect(same / total).toBeGreaterThanOrEqual(0.95);
  }, 300_000);
});
