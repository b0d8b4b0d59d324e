/** The staged encode: an image's trunk run while the head's weights still download (`LoadOptions.onTrunk`). */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MODEL_DIR } from './testing/paths';
import { texturedImage } from './testing/images';
import { fileFetch, loadNodeModel, modelUrl } from './node/io';
import { type MMNet, type TrunkEncoder, type TrunkFeatures } from '.';
import { mapTensors } from './matching';
import { loadMetadata } from './download';
import { selectBackend } from './backend';
import type { Features } from './features';

let lastShard: string;
let photo: tf.Tensor3D;

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
  lastShard = (await loadMetadata(modelUrl(TEST_MODEL_DIR), { fetch: fileFetch })).shards.at(-1)!.path;
  photo = texturedImage();
});
afterAll(() => photo.dispose());

/**
 * Loads the test model with the last shard (the head's) held back until `trunk` has run its trunk on the
 * photo from `onTrunk`: the staged path, not a race. `failHead`: the held shard then fails to download.
 */
function loadStaged(options: { hyperpixels?: boolean; failHead?: boolean } = {}) {
  let trunkRun!: (trunk: Promise<TrunkFeatures>) => void;
  const trunk = new Promise<TrunkFeatures>((done) => (trunkRun = done));
  let trunkBeforeReady = false;
  const loading = loadNodeModel(TEST_MODEL_DIR, {
    fetch: async (url) => {
      if (!url.endsWith(lastShard)) return fileFetch(url);
      await trunk.catch(() => undefined);
      return options.failHead ? new Response(null, { status: 404 }) : fileFetch(url);
    },
    onTrunk: (early: TrunkEncoder) => {
      trunkBeforeReady = true;
      trunkRun(early.encodeTrunk(photo, { hyperpixels: options.hyperpixels }));
    },
  });
  return { loading, trunk, trunkBeforeReady: () => trunkBeforeReady };
}

/** Finishes `trunk` and encodes `photo` plainly: the same features (disposed after). */
async function expectPlainFeatures(model: MMNet, trunk: TrunkFeatures, hyperpixels = false) {
  const [early, plain] = [await model.encode(trunk), await model.encode(photo, { hyperpixels })];
  expect(early.size).toEqual(plain.size);
  expect(early.maps.hyper !== undefined).toBe(hyperpixels);
  expect(await maxDifference(early, plain)).toBeLessThan(1e-5);
  early.dispose();
  plain.dispose();
}

const maxDifference = async (a: Features, b: Features) => {
  const [as, bs] = [mapTensors(a.maps), mapTensors(b.maps)];
  expect(as.map((t) => t.shape)).toEqual(bs.map((t) => t.shape));
  let worst = 0;
  for (const [k, t] of as.entries()) {
    const [x, y] = [await t.data(), await bs[k].data()];
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  }
  return worst;
};

describe('the staged encode', () => {
  let model: MMNet;
  let before: number;

  it.each([false, true])('gives the features a plain encode does (hyperpixels: %s), leaving no tensor behind', async (hyperpixels) => {
    before = tf.memory().numTensors;
    const staged = loadStaged({ hyperpixels });
    const trunk = await staged.trunk;
    model = await staged.loading;
    expect(staged.trunkBeforeReady()).toBe(true);
    expect(trunk.used).toBe(false);
    await expectPlainFeatures(model, trunk, hyperpixels);
    expect(trunk.used).toBe(true);
    await expect(model.encode(trunk)).rejects.toThrow(/already encoded/);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('frees a trunk whose image is replaced before the head arrives', async () => {
    before = tf.memory().numTensors;
    const staged = loadStaged();
    const trunk = await staged.trunk;
    const held = tf.memory().numTensors;
    trunk.dispose();
    expect(tf.memory().numTensors).toBeLessThan(held);
    model = await staged.loading;
    await expect(model.encode(trunk)).rejects.toThrow(/disposed or already encoded/);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('runs each unit of the trunk as soon as its weights are made, long before the last of them', async () => {
    before = tf.memory().numTensors;
    // A shard in the middle of the trunk's weights (block 3) is held until the trunk has run its units before it.
    const middle = `group1-shard5of${lastShard.match(/of(\d+)/)![1]}.bin`;
    let started!: () => void;
    const unitsRun = new Promise<void>((done) => (started = done));
    let fractionHeld = NaN;
    let trunk: Promise<TrunkFeatures> | undefined;
    const loading = loadNodeModel(TEST_MODEL_DIR, {
      fetch: async (url) => {
        if (url.endsWith(middle)) {
          await unitsRun;
          // Some units ran, and while the shard is held no more can.
          await new Promise((done) => setTimeout(done, 200));
          expect(fractionHeld).toBeLessThan(1);
        }
        return fileFetch(url);
      },
      onTrunk: (early) => {
        trunk = early.encodeTrunk(photo, {
          onProgress: (fraction) => {
            fractionHeld = fraction;
            started();
          },
        });
      },
    });
    model = await loading;
    expect(fractionHeld).toBeGreaterThan(0);
    await expectPlainFeatures(model, await trunk!);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("disposes the trunks not yet encoded when the head's download fails", async () => {
    before = tf.memory().numTensors;
    const staged = loadStaged({ failHead: true });
    const trunk = await staged.trunk;
    expect(trunk.used).toBe(false);
    await expect(staged.loading).rejects.toMatchObject({ code: 'model-load' });
    expect(trunk.used).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
