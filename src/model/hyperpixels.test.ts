import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { HYPERPIXEL_STRIDE } from './constants';
import { pairConsensus } from './consensus';
import { concatHyperpixels, headTapName, tapOnGrid } from './hyperpixels';
import { cellCentres, gridOf, mapTensors, scoredRows, type FeatureMaps, type FlatMap } from './matching';
import { loadNodeModel } from './node/io';
import { expectClose, randomValues } from './testing/backends';
import { TEST_MODEL_DIR } from './testing/paths';
import { MMNetError, type MMNet } from '.';

/** Unit length over the last axis of rows of `channels` values. */
const normalised = (values: Float32Array, channels: number) =>
  values.map((v, k) => {
    const cell = values.subarray(k - (k % channels), k - (k % channels) + channels);
    return v / Math.hypot(...cell);
  });

/** Each cell's vector's length, [cells]. */
const lengths = (values: Float32Array, channels: number) =>
  Array.from({ length: values.length / channels }, (_, c) => Math.hypot(...values.subarray(c * channels, (c + 1) * channels)));

describe('hyperpixels', () => {
  beforeAll(async () => void (await selectBackend({ backend: 'wasm' })));
  afterAll(() => expect(tf.memory().numTensors).toBe(0));

  it('lays a finer tap on the grid by averaging the blocks each cell covers, then normalises each cell', async () => {
    const values = randomValues(4 * 6 * 3, 1);
    const tap = tf.tensor4d(values, [1, 4, 6, 3]);
    const got = tapOnGrid(tap, { height: 2, width: 3, stride: 16 });
    expect(got.shape).toEqual([1, 2, 3, 3]);
    // Cell (i, j) is the mean of the tap's 2×2 block at (2i, 2j), then unit length.
    const mean = Float32Array.from({ length: 2 * 3 * 3 }, (_, k) => {
      const [i, j, c] = [Math.floor(k / 9), Math.floor(k / 3) % 3, k % 3];
      let sum = 0;
      for (const [dy, dx] of [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ])
        sum += values[((2 * i + dy) * 6 + 2 * j + dx) * 3 + c];
      return sum / 4;
    });
    expectClose((await got.data()) as Float32Array, normalised(mean, 3));
    tf.dispose([tap, got]);
  });

  it('lays a coarser tap on the grid bilinearly (one cell: everywhere the same unit vector)', async () => {
    const tap = tf.tensor4d([3, 0, 4], [1, 1, 1, 3]);
    const got = tapOnGrid(tap, { height: 2, width: 3, stride: 16 });
    expect(got.shape).toEqual([1, 2, 3, 3]);
    expectClose(
      (await got.data()) as Float32Array,
      Float32Array.from({ length: 18 }, (_, k) => [0.6, 0, 0.8][k % 3]),
    );
    tf.dispose([tap, got]);
  });

  it('concatenates taps into unit-length hyperpixels whose dot products are the mean of the taps’ cosines', async () => {
    const grid = { height: 2, width: 2, stride: 16 };
    const taps = [5, 7].map((c, k) => tf.tensor4d(randomValues(4 * c, 10 + k), [1, 2, 2, c]));
    const onGrid = taps.map((t) => tapOnGrid(t, grid));
    const hyper = concatHyperpixels(onGrid);
    expect(hyper.shape).toEqual([1, 2, 2, 12]);
    const flat = (await hyper.data()) as Float32Array;
    for (const length of lengths(flat, 12)) expect(length).toBeCloseTo(1, 5);
    const tapValues = (await Promise.all(onGrid.map((t) => t.data()))) as Float32Array[];
    const dot = (a: Float32Array, i: number, j: number, c: number) =>
      a.subarray(i * c, (i + 1) * c).reduce((s, v, k) => s + v * a[j * c + k], 0);
    expect(dot(flat, 0, 3, 12)).toBeCloseTo((dot(tapValues[0], 0, 3, 5) + dot(tapValues[1], 0, 3, 7)) / 2, 5);
    tf.dispose([...taps, ...onGrid, hyper]);
  });

  describe('on the hyperpixel grid', () => {
    const grid = gridOf(HYPERPIXEL_STRIDE);
    const cells = grid.height * grid.width;
    const channels = [4, 6];
    /** Hand-built maps: two random taps, normalised, concatenated; `head` empty, `raw` one of the taps. */
    const mapsOf = (seed: number) =>
      tf.tidy(() => {
        const taps = channels.map((c, k) =>
          tapOnGrid(tf.tensor4d(randomValues(cells * c, seed + k), [1, grid.height, grid.width, c]), grid),
        );
        const flat = (x: tf.Tensor4D): FlatMap => {
          const cellsFirst = tf.reshape(x, [cells, x.shape[3]]) as tf.Tensor2D;
          return { cells: cellsFirst, channels: tf.transpose(cellsFirst) };
        };
        return { taps: taps.map((t) => flat(t).cells), maps: { head: [], raw: flat(taps[0]), hyper: flat(concatHyperpixels(taps)) } };
      });
    let source: ReturnType<typeof mapsOf>;
    let target: ReturnType<typeof mapsOf>;
    beforeAll(() => void ([source, target] = [mapsOf(20), mapsOf(30)]));
    afterAll(() => tf.dispose([...mapTensors(source.maps), ...source.taps, ...mapTensors(target.maps), ...target.taps]));

    it('scores the hyper mode’s rows as the mean of the taps’ cosines over τ', async () => {
      const points = cellCentres(grid).filter((_, k) => k % 37 === 0);
      const tau = 0.1;
      const before = tf.memory().numTensors;
      const rows = scoredRows(source.maps, target.maps, points, 3, 'hyper', undefined, tau);
      expect(rows.shape).toEqual([points.length, cells]);
      const got = (await rows.data()) as Float32Array;
      rows.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const [s, t] = (await Promise.all([source, target].map((m) => Promise.all(m.taps.map((x) => x.data()))))) as Float32Array[][];
      const cosine = (k: number, a: number, b: number) => {
        const c = channels[k];
        return s[k].subarray(a * c, (a + 1) * c).reduce((sum, v, n) => sum + v * t[k][b * c + n], 0);
      };
      const expected = Float32Array.from({ length: points.length * cells }, (_, k) => {
        const [a, b] = [Math.floor(k / cells) * 37, k % cells];
        return (cosine(0, a, b) + cosine(1, a, b)) / 2 / tau;
      });
      expectClose(got, expected, 1e-4);
    });

    it('casts the consensus’s votes from the hyperpixels when told, as if they were the trunk prior', async () => {
      const constants = {
        sigma: 0.5,
        cosineExponent: 3,
        fusedExponent: 0,
        transportIterations: 0,
        transportWeight: 0,
        mirrorSigma: 1,
        mirrorBorder: 2,
      };
      const asRaw = (m: FeatureMaps): FeatureMaps => ({ ...m, raw: m.hyper! });
      const fromHyper = await pairConsensus(source.maps, target.maps, target.maps, constants, (m) => m.hyper!);
      const fromRaw = await pairConsensus(source.maps, target.maps, target.maps, constants);
      const rawTarget = asRaw(target.maps);
      expect(fromHyper).toEqual(await pairConsensus(asRaw(source.maps), rawTarget, rawTarget, constants));
      expect(fromHyper.plain.data).not.toEqual(fromRaw.plain.data);
    });
  });

  describe('encode', () => {
    let model: MMNet;
    beforeAll(async () => void (model = await loadNodeModel(TEST_MODEL_DIR)));
    afterAll(() => model.dispose());
    const image = () =>
      tf.tidy(() =>
        tf.tensor3d(
          randomValues(96 * 128 * 3, 5).map((v) => (v + 1) * 127),
          [96, 128, 3],
        ),
      );

    it('keeps the metadata’s taps as unit-length hyperpixels on the grid, and disposes them with the features', async () => {
      const taps = ['block1_unit1', 'block2_unit4', 'block3_unit23', headTapName(2)];
      model.metadata.matching.hyperpixels = { taps, tau: 0.05, votes: true };
      const pixels = image();
      const before = tf.memory().numTensors;
      const features = await model.encode(pixels, { hyperpixels: true });
      const hyper = features.maps.hyper!;
      expect(hyper.cells.shape).toEqual([gridOf(HYPERPIXEL_STRIDE).height * gridOf(HYPERPIXEL_STRIDE).width, 256 + 512 + 1024 + 21]);
      expect(hyper.channels.shape).toEqual([hyper.cells.shape[1], hyper.cells.shape[0]]);
      for (const length of lengths((await hyper.cells.data()) as Float32Array, hyper.cells.shape[1])) expect(length).toBeCloseTo(1, 4);
      const plain = await model.encode(pixels);
      expect(plain.maps.hyper).toBeUndefined();
      const [m] = await model.match(features, features, [{ x: 60, y: 40 }], { mode: 'hyper' });
      expect(Math.hypot(m.target.x - 60, m.target.y - 40)).toBeLessThan(16);
      features.dispose();
      plain.dispose();
      expect(tf.memory().numTensors).toBe(before);
      pixels.dispose();
    });

    it('refuses an unknown tap, and the hyper mode on features without hyperpixels, leaking nothing', async () => {
      const pixels = image();
      const before = tf.memory().numTensors;
      model.metadata.matching.hyperpixels = { taps: ['block4_unit1'], tau: 0.05, votes: false };
      await expect(model.encode(pixels, { hyperpixels: true })).rejects.toThrow(MMNetError);
      expect(tf.memory().numTensors).toBe(before);
      const plain = await model.encode(pixels);
      await expect(model.match(plain, plain, [{ x: 60, y: 40 }], { mode: 'hyper' })).rejects.toThrow(/hyperpixels/);
      plain.dispose();
      expect(tf.memory().numTensors).toBe(before);
      pixels.dispose();
    });
  });
});
