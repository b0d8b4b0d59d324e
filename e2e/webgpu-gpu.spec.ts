import { gpuTest } from './gpu';

// WebGPU on SwiftShader currently fails in its first match (see the annotation): the app must fall back.
gpuTest('webgpu', 600_000, 'wasm');
