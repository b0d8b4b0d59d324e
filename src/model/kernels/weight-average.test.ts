import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { padEdge, weightAverage } from '.';
import { WEIGHT_AVERAGE } from './weight-average';
import { describeOnBackends, expectClose, expectPath, randomValues } from '../testing/backends';

const [h, w, e, f] = [5, 6, 4, 7];

type Values = Record<'weight' | 'bias', Float32Array>;

/** A 1×1 conv of a map with `inputs` channels at every cell. */
function pointwise(map: Float32Array, inputs: number, { weight, bias }: Values): Float32Array {
  const outputs = bias.length;
  const out = new Float32Array((map.length / inputs) * outputs);
  out.forEach((_, k) => {
    const [cell, c] = [Math.floor(k / outputs), k % outputs];
    out[k] = bias[c] + Array.from(map.subarray(cell * inputs, (cell + 1) * inputs)).reduce((s, v, i) => s + v * weight[i * outputs + c], 0);
  });
  return out;
}

/** SPEC §3 read literally: projections, cosine similarities over the edge-replicated 3×3 neighbourhood, softmax, average, back, residual. */
function oracle(x: Float32Array, projections: Record<'theta' | 'phi' | 'g' | 'back', Values>): Float32Array {
  const [theta, phi, g] = [projections.theta, projections.phi, projections.g].map((p) => pointwise(x, f, p));
  const out = Float32Array.from(x);
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
      const average = Array.from({ length: e }, (_, k) =>
        offsets.reduce((s, [ny, nx], n) => s + (exps[n] / total) * vector(g, ny, nx)[k], 0),
      );
      const back = pointwise(Float32Array.from(average), e, projections.back);
      back.forEach((v, c) => (out[(y * w + col) * f + c] += v));
    }
  }
  return out;
}

describeOnBackends('weightAverage', (backend) => {
  it('repeats the border rows and columns, corners included', async () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
    const padded = padEdge(x);
    expect(padded.shape).toEqual([1, 4, 5, 1]);
    expect(Array.from(await padded.data())).toEqual([1, 1, 2, 3, 3, 1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 4, 4, 5, 6, 6]);
    tf.dispose([x, padded]);
  });

  const x = randomValues(h * w * f, 11);
  const projection = (inputs: number, outputs: number, seed: number) => ({
    weight: randomValues(inputs * outputs, seed),
    bias: randomValues(outputs, seed + 1),
  });
  const projections = { theta: projection(f, e, 12), phi: projection(f, e, 14), g: projection(f, e, 16), back: projection(e, f, 18) };
  const tensors = ({ weight, bias }: Values) => ({
    weight: tf.tensor4d(weight, [1, 1, weight.length / bias.length, bias.length]),
    bias: tf.tensor1d(bias),
  });
  const run = () =>
    tf.tidy(() =>
      weightAverage({
        x: tf.tensor4d(x, [1, h, w, f]),
        theta: tensors(projections.theta),
        phi: tensors(projections.phi),
        g: tensors(projections.g),
        back: tensors(projections.back),
      }),
    );

  it('averages each 3×3 neighbourhood (edges repeated) by cosine-similarity softmax', async () => {
    const out = run();
    expect(out.shape).toEqual([1, h, w, f]);
    expectClose((await out.data()) as Float32Array, oracle(x, projections));
    out.dispose();
  });

  it(backend === 'webgpu' ? 'runs as two dispatches' : 'runs the reference ops', () => expectPath(backend, WEIGHT_AVERAGE, 2, run));
});
