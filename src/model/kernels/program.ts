import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/** The backend whose kernels this folder adds; every other backend runs each op's reference path. */
export const WEBGPU = 'webgpu';

export const onWebGPU = (): boolean => tf.getBackend() === WEBGPU;

const WORKGROUP_SIZE = 64;

/**
 * A compute program with one invocation per item (an output element, or a cell that writes all its
 * channels), `items` of them. `body` is WGSL run with `index` < items; it reads its inputs as flat f32
 * arrays named as in `inputs` and writes `result`. tfjs caches pipelines by `shaderKey` and the ranks
 * (not the sizes) of the tensors, so every constant that `body` bakes in must be part of `key`.
 */
class PerItemProgram implements WebGPUProgram {
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [WORKGROUP_SIZE, 1, 1];
  readonly uniforms = 'items : i32,';

  constructor(
    readonly variableNames: string[],
    outputShape: number[],
    items: number,
    key: string,
    private readonly body: string,
  ) {
    this.outputShape = outputShape;
    this.shaderKey = key;
    // Flat over every output dimension: tfjs then passes the global invocation index to main.
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    this.dispatch = [Math.ceil(items / WORKGROUP_SIZE), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index >= uniforms.items) { return; }
        ${this.body}
      }
    `;
  }
}

/**
 * Runs one PerItemProgram on the WebGPU backend. WebGPU devices only guarantee 8 storage buffers per
 * shader stage, and the output is one of them: at most 7 inputs.
 */
export function runPerItem(
  backend: WebGPUBackend,
  inputs: Record<string, tf.TensorInfo>,
  outputShape: number[],
  items: number,
  key: string,
  body: string,
): tf.TensorInfo {
  const names = Object.keys(inputs);
  if (names.length > 7) throw new Error(`${key}: ${names.length} inputs exceed the 7 storage buffers left beside the output`);
  const program = new PerItemProgram(names, outputShape, items, key, body);
  return backend.runWebGPUProgram(program, Object.values(inputs), 'float32', [{ type: 'int32', data: [items] }]);
}
