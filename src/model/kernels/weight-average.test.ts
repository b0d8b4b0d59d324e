import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { padEdge, weightAverage } from '.';
import { WEIGHT_AVERAGE } from './weight-average';
import { describeOnBackends, expectClose, kernelNames, randomValues } from './testing';

const [h, w, e, f] = [5, 6, 4, 7];

/** SPEC §3 read literally: cosine similarities over the edge-replicated 3×3 neighbourhood, softmax, average, back, residual. */
function oracle(x: Float32Array, theta: Float32Array, phi: Float32Array, g: Float32Array, weight: Float32Array, bias: Float32Array): Float32Array {
  const out = new Float32Array(h * w * f);
  const vector = (t: Float32Array, y: number, col: number) => {
    const cell = Math.min(Math.max(y, 0), h - 1) * w + Math.min(Math.max(col, 0), w - 1);
    return Array.from(t.subarray(cell * e, (cell + 1) * e));
  };
  const norm = (v: number[]) => Math.hypot(...v);
  for (let y = 0; y < h; y++) {
    for (let col = 0; col < w; col++) {
      const t = vector(theta, y, col);
      const offsets = [-1, 0, 1].flatMap((dy) => [-1, 0, 1].map((dx) => [y + dy, col + dx]));
      const sims = offsets.map(([ny, nx]) => {
        const p = vector(phi, ny, nx);
        return t.reduce((s, v, k) => s + v * p[k], 0) / Math.max(norm(t) * norm(p), 1e-8);
      });
      const top = Math.max(...sims);
      const exps = sims.map((s) => Math.exp(s - top));
      const total = exps.reduce((a, b) => a + b);
      const average = Array.from({ length: e }, (_, k) => offsets.reduce((s, [ny, nx], n) => s + (exps[n] / total) * vector(g, ny, nx)[k], 0));
      for (let c = 0; c < f; c++) {
        const cell = y * w + col;
        out[cell * f + c] = x[cell * f + c] + bias[c] + average.reduce((s, v, k) => s + v * weight[k * f + c], 0);
      }
    }
  }
  return out;
}

describeOnBackends('weightAverage', (backend) => {
  it('repeats the border rows and columns, corners included', async () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
    const padded = padEdge(x);
    expect(padded.shape).toEqual([1, 4, 5, 1]);
    expect(Array.from(await padded.data())).toEqual([
      1, 1, 2, 3, 3,
      1, 1, 2, 3, 3,
      4, 4, 5, 6, 6,
      4, 4, 5, 6, 6,
    ]);
    tf.dispose([x, padded]);
  });

  const values = {
    x: randomValues(h * w * f, 11),
    theta: randomValues(h * w * e, 12),
    phi: randomValues(h * w * e, 13),
    g: randomValues(h * w * e, 14),
    weight: randomValues(e * f, 15),
    bias: randomValues(f, 16),
  };
  const run = () =>
    tf.tidy(() =>
      weightAverage({
        x: tf.tensor4d(values.x, [1, h, w, f]),
        theta: tf.tensor4d(values.theta, [1, h, w, e]),
        phi: tf.tensor4d(values.phi, [1, h, w, e]),
        g: tf.tensor4d(values.g, [1, h, w, e]),
        backWeight: tf.tensor4d(values.weight, [1, 1, e, f]),
        backBias: tf.tensor1d(values.bias),
      }),
    );

  it('averages each 3×3 neighbourhood (edges repeated) by cosine-similarity softmax', async () => {
    const out = run();
    expect(out.shape).toEqual([1, h, w, f]);
    expectClose((await out.data()) as Float32Array, oracle(values.x, values.theta, values.phi, values.g, values.weight, values.bias));
    out.dispose();
  });

  it(backend === 'webgpu' ? 'runs as one kernel' : 'runs the reference ops', async () => {
    const names = await kernelNames(run);
    expect(names.includes(WEIGHT_AVERAGE)).toBe(backend === 'webgpu');
    if (backend === 'webgpu') expect(names.filter((n) => !['Reshape', 'Identity'].includes(n))).toEqual([WEIGHT_AVERAGE]);
  });
});
