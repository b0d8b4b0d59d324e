import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { l2Normalize } from './unit-vectors';
import { describeOnBackends } from './testing/backends';

describeOnBackends('l2Normalize', () => {
  it('scales every cell to unit length over the channels, and keeps a zero cell zero (not NaN)', async () => {
    const x = tf.tensor4d([3, 4, 0, 0, 0, 0, -1, 0, 0, 1e-20, 0, 0], [1, 2, 2, 3]);
    const unit = l2Normalize(x);
    // [3, 4, 0] → [0.6, 0.8, 0]; a zero cell divides by the floor 1e-12; 1e-20 stays tiny (PyTorch F.normalize).
    expect(Array.from(await unit.data())).toEqual([0.6, 0.8, 0, 0, 0, 0, -1, 0, 0, 1e-8, 0, 0].map((v) => expect.closeTo(v, 6)));
    tf.dispose([x, unit]);
  });
});
