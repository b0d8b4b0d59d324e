/** Shared by the kernels' parity tests: the backends they run on, seeded inputs, comparison. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { installNodeWebGPU } from '../node/webgpu';
import { countKernels } from '../kernels/profile';
import { selectBackend } from '../backend';
import type { BackendName } from '../types';

/** wasm runs each op's reference path, webgpu (Dawn in Node) the custom kernel. */
const BACKENDS: readonly BackendName[] = ['wasm', 'webgpu'];

/** Runs `suite` once per backend, that backend active. */
export function describeOnBackends(name: string, suite: (backend: BackendName) => void): void {
  describe.each(BACKENDS)(`${name} on %s`, (backend) => {
    beforeAll(async () => {
      if (backend === 'webgpu') installNodeWebGPU();
      await selectBackend({ backend });
    });
    afterAll(() => expect(tf.memory().numTensors).toBe(0));
    suite(backend);
  });
}

/** Deterministic values in [-1, 1) (mulberry32), so a failure reproduces. */
export function randomValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  });
}

/** Element-wise |actual − expected| ≤ tolerance · max(1, |expected|max). */
export function expectClose(actual: Float32Array, expected: Float32Array, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  const scale = expected.reduce((max, v) => Math.max(max, Math.abs(v)), 1);
  const error = actual.reduce((worst, v, i) => Math.max(worst, Math.abs(v - expected[i])), 0);
  expect(error).toBeLessThanOrEqual(tolerance * scale);
}

/**
 * Which path `fn` took: on webgpu, that it ran `kernel` in `dispatches` compute dispatches and nothing
 * else; elsewhere, that it ran the reference ops and not `kernel`.
 */
export async function expectPath(backend: BackendName, kernel: string, dispatches: number, fn: () => tf.Tensor): Promise<void> {
  const { kernels, result } = await tf.profile(async () => {
    if (backend !== 'webgpu') return fn();
    const counted = await countKernels(fn);
    expect(counted.total).toBe(dispatches);
    return counted.result;
  });
  tf.dispose(result);
  const names = kernels.map((k) => k.name).filter((n) => n !== 'Reshape');
  if (backend === 'webgpu') expect(names).toEqual([kernel]);
  else expect(names).not.toContain(kernel);
}
