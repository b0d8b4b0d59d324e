import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { MMNetError } from './errors';

describe('selectBackend', () => {
  it('falls back past unavailable backends and says why each was skipped', async () => {
    const report = await selectBackend({ backend: ['webgpu', 'webgl', 'wasm'] });
    expect(report.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.rejected.map((r) => r.name)).toEqual(['webgpu', 'webgl']);
    expect(report.rejected[0].reason).toMatch(/navigator\.gpu/);
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
