import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { scaleSum } from '.';
import { SCALE_SUM } from './scale-sum';
import { describeOnBackends, expectClose, expectPath, randomValues } from '../testing/backends';

const [h, w, inner, f] = [4, 6, 8, 5];
const cells = h * w;

/** previous + bias + W·m at every cell. */
function oracle(m: Float32Array, weight: Float32Array, bias: Float32Array, previous?: Float32Array): Float32Array {
  const out = new Float32Array(cells * f);
  for (let cell = 0; cell < cells; cell++) {
    for (let c = 0; c < f; c++) {
      let v = bias[c];
      for (let i = 0; i < inner; i++) v += m[cell * inner + i] * weight[i * f + c];
      out[cell * f + c] = (previous?.[cell * f + c] ?? 0) + v;
    }
  }
  return out;
}

describeOnBackends('scaleSum', (backend) => {
  const m = randomValues(cells * inner, 1);
  const weight = randomValues(inner * f, 5);
  const bias = randomValues(f, 6);
  const previous = randomValues(cells * f, 7);
  const run = (withPrevious: boolean) =>
    tf.tidy(() =>
      scaleSum({
        m: tf.tensor4d(m, [1, h, w, inner]),
        downWeight: tf.tensor4d(weight, [1, 1, inner, f]),
        downBias: tf.tensor1d(bias),
        previous: withPrevious ? tf.tensor4d(previous, [1, h, w, f]) : undefined,
      }),
    );

  it.each([true, false])('adds down(m) to the sum so far (a sum so far: %s)', async (withPrevious) => {
    const out = run(withPrevious);
    expect(out.shape).toEqual([1, h, w, f]);
    expectClose((await out.data()) as Float32Array, oracle(m, weight, bias, withPrevious ? previous : undefined));
    out.dispose();
  });

  it(backend === 'webgpu' ? 'runs as one dispatch' : 'runs the reference ops', () => expectPath(backend, SCALE_SUM, 1, () => run(true)));
});
