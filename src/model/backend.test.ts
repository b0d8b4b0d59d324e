import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { installNodeWebGPU } from './node/webgpu';
import { filledTensor, MAX_WASM_THREADS, selectBackend, WEBGPU_FLAGS, wasmThreadCount } from './backend';
import { MMNetError } from './errors';

describe('selectBackend', () => {
  it('falls back past unavailable backends and says why each was skipped', async () => {
    const report = await selectBackend({ backend: ['webgpu', 'webgl', 'wasm'] });
    expect(report.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.rejected.map((r) => r.name)).toEqual(['webgpu', 'webgl']);
    expect(report.rejected[0].reason).toMatch(/navigator\.gpu/);
    // tfjs runs wasm on one thread in Node; the report says so and why.
    expect(report.wasm).toMatchObject({ threads: 1, singleThreadReason: expect.any(String) });
  });

  it('gives up on a backend that hangs while starting', async () => {
    tf.registerBackend('webgpu', () => new Promise(() => {}));
    const report = await selectBackend({ backend: ['webgpu', 'cpu'], backendTimeoutMs: 200 });
    tf.removeBackend('webgpu');
    expect(report.name).toBe('cpu');
    expect(report.rejected).toEqual([{ name: 'webgpu', reason: 'webgpu did not start within 0.2 s' }]);
    const product = tf.mul(tf.scalar(2), 3);
    expect(await product.data()).toEqual(Float32Array.of(6)); // ops run despite the abandoned start
    product.dispose();
  });

  it('throws a backend error when nothing starts', async () => {
    const error = await selectBackend({ backend: ['webgl'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MMNetError);
    expect((error as MMNetError).code).toBe('backend');
  });
});

describe('wasmThreadCount', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('takes a thread per logical core, at most the pthread pool tfjs starts', () => {
    vi.stubGlobal('navigator', { hardwareConcurrency: 4 });
    expect(wasmThreadCount()).toBe(4);
    vi.stubGlobal('navigator', { hardwareConcurrency: 32 });
    expect(wasmThreadCount()).toBe(MAX_WASM_THREADS);
    expect(wasmThreadCount(3)).toBe(3);
    expect(wasmThreadCount(64)).toBe(MAX_WASM_THREADS);
    expect(wasmThreadCount(0)).toBe(1);
  });
});

// Last: it puts Dawn's navigator.gpu in place for the rest of the file.
describe('WebGPU flags', () => {
  it('starts WebGPU with WEBGPU_FLAGS, and webgpuFlags over them', async () => {
    installNodeWebGPU();
    await selectBackend({ backend: 'webgpu' });
    for (const [flag, value] of Object.entries(WEBGPU_FLAGS)) expect(tf.env().get(flag)).toBe(value);
    await selectBackend({ backend: 'webgpu', webgpuFlags: { WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: 7 } });
    expect(tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')).toBe(7);
    expect(tf.env().get('WEBGPU_CPU_FORWARD')).toBe(WEBGPU_FLAGS.WEBGPU_CPU_FORWARD);
  });
});

describe('filledTensor', () => {
  it.each(['wasm', 'cpu'] as const)('makes a %s tensor of the values written, counted and freed like any other', async (backend) => {
    await selectBackend({ backend });
    const before = tf.memory().numTensors;
    const tensor = filledTensor([2, 3], (values) => values.forEach((_, i) => (values[i] = i / 2)));
    expect(tensor.shape).toEqual([2, 3]);
    expect(tf.memory().numTensors).toBe(before + 1);
    const doubled = tf.mul(tensor, 2);
    expect(await doubled.data()).toEqual(Float32Array.of(0, 1, 2, 3, 4, 5));
    tf.dispose([tensor, doubled]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('writes a wasm tensor in place: the array it fills is the backend’s own memory', async () => {
    await selectBackend({ backend: 'wasm' });
    let filled: Float32Array | undefined;
    const tensor = filledTensor([4], (values) => (filled = values).fill(7));
    filled![1] = 8;
    expect(await tensor.data()).toEqual(Float32Array.of(7, 8, 7, 7));
    tensor.dispose();
  });
});
