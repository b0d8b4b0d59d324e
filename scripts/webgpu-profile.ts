/**
 * What one piece of tfjs work costs on the WebGPU backend: how many compute dispatches it records, and
 * how long the GPU spends on them (timestamp queries, where the adapter has them).
 */
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-webgpu's WebGPUBackend used here (not in its public typings). */
interface WebGPUBackendInternals {
  recordAndSubmit(program: { constructor: { name: string } }, ...rest: unknown[]): void;
  supportTimestampQuery: boolean;
}

function webgpuBackend(): WebGPUBackendInternals {
  if (tf.getBackend() !== 'webgpu') throw new Error(`the active tfjs backend is ${tf.getBackend()}, not webgpu`);
  return tf.backend() as unknown as WebGPUBackendInternals;
}

/** Dispatches per tfjs program (e.g. `Conv2DMMProgram`), and their total. */
export interface KernelCount {
  total: number;
  byProgram: Record<string, number>;
}

/**
 * Counts the compute dispatches `fn` records. It wraps the backend's `recordAndSubmit`, which runs once
 * per dispatch that reaches the GPU: ops forwarded to the CPU, empty outputs and reshapes are not
 * counted, unlike in `tf.profile()`'s kernel list, which names every op.
 */
export async function countKernels<T>(fn: () => T | Promise<T>): Promise<{ result: T } & KernelCount> {
  const backend = webgpuBackend();
  const byProgram: Record<string, number> = {};
  const original = backend.recordAndSubmit;
  backend.recordAndSubmit = function (this: WebGPUBackendInternals, program, ...rest) {
    const name = program.constructor.name;
    byProgram[name] = (byProgram[name] ?? 0) + 1;
    return original.call(this, program, ...rest);
  };
  try {
    const result = await fn();
    return { result, total: Object.values(byProgram).reduce((a, b) => a + b, 0), byProgram };
  } finally {
    backend.recordAndSubmit = original;
  }
}

/** GPU time per tfjs program, ms, summed over its dispatches. */
export interface KernelTime {
  totalMs: number;
  byProgram: Record<string, { kernels: number; ms: number }>;
}

/**
 * The GPU time of the kernels `fn` dispatches, from timestamp queries (`tf.time`: one compute pass and
 * one query per kernel, so it runs slower than usual), or undefined where the device has no
 * `timestamp-query` feature. `fn` must dispatch synchronously.
 */
export async function kernelTimes(fn: () => void): Promise<KernelTime | undefined> {
  if (!webgpuBackend().supportTimestampQuery) return undefined;
  const info = await tf.time(fn);
  const byProgram: KernelTime['byProgram'] = {};
  // "Conv2DMMProgram: 0.41, BinaryOpProgram: 0.02, …": the only per-kernel form tf.time gives.
  for (const entry of (info as tf.TimingInfo & { getExtraProfileInfo?: () => string }).getExtraProfileInfo?.().split(', ') ?? []) {
    const [name, ms] = entry.split(': ');
    if (!name) continue;
    const p = (byProgram[name] ??= { kernels: 0, ms: 0 });
    p.kernels++;
    p.ms += Number(ms);
  }
  return { totalMs: info.kernelMs as number, byProgram };
}
