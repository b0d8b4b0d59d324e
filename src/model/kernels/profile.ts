/**
 * What one piece of tfjs work costs on the WebGPU backend: how many compute dispatches it records, and
 * how long the GPU spends on them (timestamp queries, where the adapter has them).
 */
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-webgpu's WebGPUBackend used here (not in its public typings). */
interface WebGPUBackendInternals {
  recordAndSubmit(program: { constructor: { name: string }; outputShape: number[] }, ...rest: unknown[]): void;
  supportTimestampQuery: boolean;
}

function webgpuBackend(): WebGPUBackendInternals {
  if (tf.getBackend() !== 'webgpu') throw new Error(`the active tfjs backend is ${tf.getBackend()}, not webgpu`);
  return tf.backend() as unknown as WebGPUBackendInternals;
}

/** One compute dispatch: its tfjs program (e.g. `Conv2DMMProgram`) and output shape. */
export interface Dispatch {
  program: string;
  shape: number[];
}

/**
 * The dispatches `fn` records, in order. It wraps the backend's `recordAndSubmit`, which runs once per
 * dispatch that reaches the GPU: ops forwarded to the CPU, empty outputs and reshapes are not counted,
 * unlike in `tf.profile()`'s kernel list, which names every op.
 */
async function recordDispatches<T>(fn: () => T | Promise<T>): Promise<{ result: T; dispatches: Dispatch[] }> {
  const backend = webgpuBackend();
  const dispatches: Dispatch[] = [];
  const original = backend.recordAndSubmit;
  backend.recordAndSubmit = function (this: WebGPUBackendInternals, program, ...rest) {
    dispatches.push({ program: program.constructor.name, shape: program.outputShape });
    return original.call(this, program, ...rest);
  };
  try {
    return { result: await fn(), dispatches };
  } finally {
    backend.recordAndSubmit = original;
  }
}

/** Dispatches per tfjs program, and their total. */
export interface KernelCount {
  total: number;
  byProgram: Record<string, number>;
}

export async function countKernels<T>(fn: () => T | Promise<T>): Promise<{ result: T } & KernelCount> {
  const { result, dispatches } = await recordDispatches(fn);
  const byProgram: Record<string, number> = {};
  for (const d of dispatches) byProgram[d.program] = (byProgram[d.program] ?? 0) + 1;
  return { result, total: dispatches.length, byProgram };
}

/** GPU time per tfjs program and per distinct kernel (program and output shape), ms, summed over dispatches. */
export interface KernelTime {
  totalMs: number;
  byProgram: Record<string, { kernels: number; ms: number }>;
  byShape: Record<string, { kernels: number; ms: number }>;
}

/**
 * The GPU time of the kernels `fn` dispatches, from timestamp queries (`tf.time`: one compute pass and
 * one query per kernel, so it runs slower than usual), or undefined where the device has no
 * `timestamp-query` feature. `fn` must dispatch synchronously.
 */
export async function kernelTimes(fn: () => void): Promise<KernelTime | undefined> {
  if (!webgpuBackend().supportTimestampQuery) return undefined;
  const { result: info, dispatches } = await recordDispatches(() => tf.time(fn));
  // "Conv2DMMProgram: 0.41, BinaryOpProgram: 0.02, …", one entry per dispatch in order: the only
  // per-kernel form tf.time gives.
  const times = ((info as tf.TimingInfo & { getExtraProfileInfo?: () => string }).getExtraProfileInfo?.() ?? '')
    .split(', ')
    .filter(Boolean);
  const byProgram: KernelTime['byProgram'] = {};
  const byShape: KernelTime['byShape'] = {};
  times.forEach((entry, k) => {
    const [name, ms] = entry.split(': ');
    const shape = dispatches[k]?.program === name ? `${name} [${dispatches[k].shape}]` : name;
    for (const [table, key] of [
      [byProgram, name],
      [byShape, shape],
    ] as const) {
      const p = (table[key] ??= { kernels: 0, ms: 0 });
      p.kernels++;
      p.ms += Number(ms);
    }
  });
  return { totalMs: info.kernelMs as number, byProgram, byShape };
}
