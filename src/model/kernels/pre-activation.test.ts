import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { preActivation } from '.';
import { PRE_ACTIVATION } from './pre-activation';
import { describeOnBackends, expectClose, expectPath, randomValues } from '../testing/backends';

const [h, w, c] = [5, 7, 12];

/** relu(x · scale + shift) per element, scale and shift per channel. */
function oracle(x: Float32Array, scale: Float32Array, shift: Float32Array): Float32Array {
  return x.map((v, i) => Math.max(0, Math.fround(v * scale[i % c]) + shift[i % c]));
}

describeOnBackends('preActivation', (backend) => {
  const values = { x: randomValues(h * w * c, 1), scale: randomValues(c, 2), shift: randomValues(c, 3) };
  const run = () => tf.tidy(() => preActivation(tf.tensor4d(values.x, [1, h, w, c]), tf.tensor1d(values.scale), tf.tensor1d(values.shift)));

  it('computes relu(x · scale + shift)', async () => {
    const out = run();
    expect(out.shape).toEqual([1, h, w, c]);
    expectClose((await out.data()) as Float32Array, oracle(values.x, values.scale, values.shift));
    out.dispose();
  });

  it(backend === 'webgpu' ? 'runs as one dispatch' : 'runs the reference ops', () => expectPath(backend, PRE_ACTIVATION, 1, run));
});
