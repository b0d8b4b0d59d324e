/** Shared by the kernels' parity tests: the backends they run on, seeded inputs, comparison. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { installNodeWebGPU } from '../../../scripts/node-webgpu';
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

/** The kernels tfjs ran for `fn` (one entry per kernel call), to check which path an op took. */
export async function kernelNames(fn: () => tf.Tensor): Promise<string[]> {
  const { kernels, result } = await tf.profile(() => fn());
  tf.dispose(result);
  return kernels.map((k) => k.name);
}
