import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fusedScores, upsampleRows } from '.';
import { FUSED_SCORES } from './fused-scores';
import { describeOnBackends, expectClose, expectPath, randomValues } from '../testing/backends';

const [rows, height, width, factor] = [3, 4, 6, 2];
const cells = height * width;
const rawWidth = width / factor;
const rawCells = (height / factor) * rawWidth;
const attrs = { height, width, factor, lambda: 0.7, tau: 0.05 };

/** log_softmax of each row of `values` (`length` long), every value times `scale` first. */
function logSoftmaxRows(values: Float32Array, length: number, scale = 1): Float64Array {
  const out = new Float64Array(values.length);
  for (let r = 0; r < values.length / length; r++) {
    const row = Array.from(values.subarray(r * length, (r + 1) * length), (v) => v * scale);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    row.forEach((v, k) => (out[r * length + k] = v - lse));
  }
  return out;
}

/** SPEC §4b in plain arithmetic: each head cell takes the raw cell it lies in. */
function oracle(head: Float32Array, flipped?: Float32Array, raw?: Float32Array): Float32Array {
  const h = logSoftmaxRows(head, cells);
  const f = flipped && logSoftmaxRows(flipped, cells);
  const p = raw && logSoftmaxRows(raw, rawCells, 1 / attrs.tau);
  return Float32Array.from(h, (v, index) => {
    const [r, k] = [Math.floor(index / cells), index % cells];
    const rawCell = Math.floor(Math.floor(k / width) / factor) * rawWidth + Math.floor((k % width) / factor);
    return v + (f?.[index] ?? 0) + (p ? attrs.lambda * p[r * rawCells + rawCell] : 0);
  });
}

describeOnBackends('fusedScores', (backend) => {
  // Spread like real rows: head logits of a few units, cosines in [-1, 1].
  const head = randomValues(rows * cells, 11).map((v) => 4 * v);
  const flipped = randomValues(rows * cells, 12).map((v) => 4 * v);
  const raw = randomValues(rows * rawCells, 13);
  const run = (withFlipped: boolean, withRaw: boolean) =>
    tf.tidy(() =>
      fusedScores(
        {
          head: tf.tensor2d(head, [rows, cells]),
          flipped: withFlipped ? tf.tensor2d(flipped, [rows, cells]) : undefined,
          raw: withRaw ? tf.tensor2d(raw, [rows, rawCells]) : undefined,
        },
        attrs,
      ),
    );

  it.each([
    [true, true],
    [false, true],
    [true, false],
  ])('sums the log-probabilities (flipped: %s, raw: %s)', async (withFlipped, withRaw) => {
    const out = run(withFlipped, withRaw);
    expect(out.shape).toEqual([rows, cells]);
    expectClose((await out.data()) as Float32Array, oracle(head, withFlipped ? flipped : undefined, withRaw ? raw : undefined));
    out.dispose();
  });

  it(backend === 'webgpu' ? 'runs as one dispatch' : 'runs the reference ops', () =>
    expectPath(backend, FUSED_SCORES, 1, () => run(true, true)),
  );
});

describe('upsampleRows', () => {
  it('repeats every cell factor×factor times (cell i ← floor(i / f))', async () => {
    const rows = tf.tensor2d([1, 2, 3, 4, 5, 6], [1, 6]); // one 2×3 row
    const up = upsampleRows(rows, { height: 2, width: 3 }, 2);
    expect(Array.from(await up.data())).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6]);
    tf.dispose([rows, up]);
  });
});
