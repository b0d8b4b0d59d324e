import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { scaleSum } from '.';
import { SCALE_SUM } from './scale-sum';
import { describeOnBackends, expectClose, kernelNames, randomValues } from './testing';

const [h, w, m, f] = [4, 6, 8, 5];
const cells = h * w;

/** previous + bias + W·(o + o1 + o2 + o3) at every cell. */
function oracle(branches: Float32Array[], weight: Float32Array, bias: Float32Array, previous?: Float32Array): Float32Array {
  const out = new Float32Array(cells * f);
  for (let cell = 0; cell < cells; cell++) {
    for (let c = 0; c < f; c++) {
      let v = bias[c];
      for (let i = 0; i < m; i++) v += branches.reduce((s, b) => s + b[cell * m + i], 0) * weight[i * f + c];
      out[cell * f + c] = (previous?.[cell * f + c] ?? 0) + v;
    }
  }
  return out;
}

describeOnBackends('scaleSum', (backend) => {
  const branches = [1, 2, 3, 4].map((seed) => randomValues(cells * m, seed));
  const weight = randomValues(m * f, 5);
  const bias = randomValues(f, 6);
  const previous = randomValues(cells * f, 7);
  const run = (withPrevious: boolean) =>
    tf.tidy(() =>
      scaleSum({
        branches: branches.map((b) => tf.tensor4d(b, [1, h, w, m])) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D],
        downWeight: tf.tensor4d(weight, [1, 1, m, f]),
        downBias: tf.tensor1d(bias),
        previous: withPrevious ? tf.tensor4d(previous, [1, h, w, f]) : undefined,
      }),
    );

  it.each([true, false])('adds down(o + o1 + o2 + o3) to the sum so far (a sum so far: %s)', async (withPrevious) => {
    const out = run(withPrevious);
    expect(out.shape).toEqual([1, h, w, f]);
    expectClose((await out.data()) as Float32Array, oracle(branches, weight, bias, withPrevious ? previous : undefined));
    out.dispose();
  });

  it(backend === 'webgpu' ? 'runs as one kernel' : 'runs the reference ops', async () => {
    const names = await kernelNames(() => run(true));
    expect(names.includes(SCALE_SUM)).toBe(backend === 'webgpu');
    if (backend === 'webgpu') expect(names.filter((n) => !['Reshape', 'Identity'].includes(n))).toEqual([SCALE_SUM]);
  });
});
