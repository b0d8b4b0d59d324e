import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { msBranches, type MSBranch } from '.';
import { MS_BRANCHES } from './ms-branches';
import { describeOnBackends, expectClose, expectPath, randomValues } from '../testing/backends';

// Dilations as large as the map, so some branches see only zero padding around a cell.
const [h, w, m] = [7, 9, 6];
const DILATIONS = [1, 3, 8] as const;

/** o + Σ_k relu(bias_k + Σ_taps W_k · o(y + ky·d_k, x + kx·d_k)), taps outside the map count as zero. */
function oracle(o: Float32Array, weights: Float32Array[], biases: Float32Array[]): Float32Array {
  const out = Float32Array.from(o);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < m; c++) {
        DILATIONS.forEach((d, k) => {
          let v = biases[k][c];
          for (let ky = -1; ky <= 1; ky++) {
            for (let kx = -1; kx <= 1; kx++) {
              const [iy, ix] = [y + ky * d, x + kx * d];
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              for (let i = 0; i < m; i++) v += o[(iy * w + ix) * m + i] * weights[k][(((ky + 1) * 3 + kx + 1) * m + i) * m + c];
            }
          }
          out[(y * w + x) * m + c] += Math.max(0, v);
        });
      }
    }
  }
  return out;
}

describeOnBackends('msBranches', (backend) => {
  const o = randomValues(h * w * m, 21);
  const weights = DILATIONS.map((_, k) => randomValues(9 * m * m, 22 + k));
  // Biases shifted up so that relu passes most values and cuts some.
  const biases = DILATIONS.map((_, k) => randomValues(m, 25 + k).map((v) => v + 0.5));
  const run = () =>
    tf.tidy(() =>
      msBranches(
        tf.tensor4d(o, [1, h, w, m]),
        DILATIONS.map((dilation, k) => ({ weight: tf.tensor4d(weights[k], [3, 3, m, m]), bias: tf.tensor1d(biases[k]), dilation })) as [
          MSBranch,
          MSBranch,
          MSBranch,
        ],
      ),
    );

  it('sums o and its three dilated relu branches, zero-padded', async () => {
    const out = run();
    expect(out.shape).toEqual([1, h, w, m]);
    expectClose((await out.data()) as Float32Array, oracle(o, weights, biases));
    out.dispose();
  });

  it(backend === 'webgpu' ? 'runs as one dispatch' : 'runs the reference ops', () => expectPath(backend, MS_BRANCHES, 1, run));
});
