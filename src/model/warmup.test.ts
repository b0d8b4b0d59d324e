/** The wasm warm-up of the trunk's convolutions as their tensors are made (`trunkWarmer`). */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { fileFetch, loadNodeModel, modelUrl } from './node/io';
import { TEST_MODEL_DIR } from './testing/paths';
import { trunkConvs, trunkConvWeights, trunkTaps } from './trunk';
import { headWarmUps, trunkWarmer } from './warmup';
import { encodeMaps } from './encoder';
import { mapTensors } from './matching';
import { INPUT_HEIGHT, INPUT_WIDTH } from './constants';
import { loadWeights, type WeightMap } from './weights';

let weights: WeightMap;

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
  weights = (await loadWeights(modelUrl(TEST_MODEL_DIR), { fetch: fileFetch })).weights;
});
afterAll(() => tf.dispose(Object.values(weights)));

/** The convolutions `work` runs (tfjs kernel names). */
async function convolutionsRun(work: () => void, kernel = 'FusedConv2D'): Promise<number> {
  const { kernels } = await tf.profile(work);
  return kernels.filter((k) => k.name === kernel).length;
}

/** The named tensors of `weights` alone. */
const only = (names: string[]): WeightMap => Object.fromEntries(names.map((name) => [name, weights[name]]));

describe('trunkWarmer', () => {
  it('runs each trunk convolution once, as soon as its filter and bias are made, and leaks nothing', async () => {
    const warm = trunkWarmer();
    const [stem, second] = trunkConvs();
    const before = tf.memory().numTensors;
    expect(await convolutionsRun(() => warm(only([trunkConvWeights(stem).filter, trunkConvWeights(second).filter])))).toBe(0);
    const stemMade = only(Object.values(trunkConvWeights(stem)));
    expect(await convolutionsRun(() => warm(stemMade))).toBe(1);
    expect(await convolutionsRun(() => warm(stemMade))).toBe(0);
    expect(await convolutionsRun(() => warm(weights))).toBe(trunkConvs().length - 1);
    expect(await convolutionsRun(() => warm(weights))).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('does nothing off wasm (cpu has no operator to build)', async () => {
    await tf.setBackend('cpu');
    try {
      expect(await convolutionsRun(() => trunkWarmer()(weights))).toBe(0);
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it("takes the one-time cost out of the trunk's first run: loadMMNet's weights run it far faster than plainly loaded ones", async () => {
    // Fresh tensors both: tfjs-wasm keeps an operator per filter tensor, and the tests above warmed `weights`.
    const model = await loadNodeModel(TEST_MODEL_DIR);
    const plain = (await loadWeights(modelUrl(TEST_MODEL_DIR), { fetch: fileFetch })).weights;
    const firstRunMs = async (w: WeightMap) => {
      const input = tf.zeros([1, 64, 64, 3]) as tf.Tensor4D;
      const start = performance.now();
      for (const _ of trunkTaps(w, input));
      const ms = performance.now() - start;
      input.dispose();
      return ms;
    };
    try {
      const warmed = await firstRunMs(model.weights);
      const cold = await firstRunMs(plain);
      expect(warmed).toBeLessThan(cold / 3);
    } finally {
      model.dispose();
      tf.dispose(Object.values(plain));
    }
  });
});

describe('headWarmUps', () => {
  it('runs every convolution of an encode that is not the trunk’s once, and leaks nothing', async () => {
    const encode = () => {
      const input = tf.zeros([1, INPUT_HEIGHT, INPUT_WIDTH, 3]) as tf.Tensor4D;
      tf.dispose([input, ...mapTensors(encodeMaps(weights, input))]);
    };
    const warmUps = () => headWarmUps(weights).forEach((step) => step());
    const before = tf.memory().numTensors;
    expect(await convolutionsRun(warmUps)).toBe((await convolutionsRun(encode)) - trunkConvs().length);
    // The top-down pathway's upsampling.
    expect(await convolutionsRun(warmUps, 'Conv2DBackpropInput')).toBe(await convolutionsRun(encode, 'Conv2DBackpropInput'));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('has no step off wasm', async () => {
    await tf.setBackend('cpu');
    try {
      expect(headWarmUps(weights)).toEqual([]);
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
