/** `prepare`: the pair's one-off work done ahead, so its first match computes nothing per pair. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pairConsensus } from './consensus';
import { loadNodeModel } from './node/io';
import { TEST_MODEL_DIR } from './testing/paths';
import { texturedImage } from './testing/images';
import type { Features, MMNet } from '.';

// The pair's consensus, counted: `prepare` should compute it once each way, and matches after it never.
vi.mock('./consensus', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./consensus')>();
  return { ...actual, pairConsensus: vi.fn(actual.pairConsensus) };
});

let model: MMNet;
let images: tf.Tensor3D[];
beforeAll(async () => {
  model = await loadNodeModel(TEST_MODEL_DIR);
  images = [texturedImage(), texturedImage(8)];
});
afterAll(() => {
  tf.dispose(images);
  model.dispose();
});

const encodePair = async (): Promise<[Features, Features]> => [await model.encode(images[0]), await model.encode(images[1])];
const points = [
  { x: 30, y: 20 },
  { x: 90, y: 60 },
];

describe('prepare', () => {
  it('computes the consensus both ways, so the matches after it compute none and answer as without it', async () => {
    const [a, b] = await encodePair();
    const [c, d] = await encodePair();
    vi.mocked(pairConsensus).mockClear();
    await model.prepare(a, b);
    expect(pairConsensus).toHaveBeenCalledTimes(2);
    const prepared = [await model.match(a, b, points), await model.match(b, a, points)];
    expect(pairConsensus).toHaveBeenCalledTimes(2);

    const plain = [await model.match(c, d, points), await model.match(d, c, points)];
    expect(pairConsensus).toHaveBeenCalledTimes(4);
    expect(prepared.map((ms) => ms.map((m) => [m.target, m.confidence]))).toEqual(
      plain.map((ms) => ms.map((m) => [m.target, m.confidence])),
    );
    for (const f of [a, b, c, d]) f.dispose();
  });

  it('refuses disposed features', async () => {
    const [a, b] = await encodePair();
    b.dispose();
    await expect(model.prepare(a, b)).rejects.toThrow(/disposed/);
    a.dispose();
  });
});
