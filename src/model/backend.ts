import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_ORDER } from './constants';
import { MMNetError } from './errors';
import type { BackendName, BackendReport, WasmReport } from './types';

/**
 * A GPU backend that neither starts nor fails in this time is skipped (a hung GPU driver must not hang the
 * app). wasm and cpu have no limit: on a busy machine wasm starts late, and cpu would be tens of times slower.
 */
const BACKEND_TIMEOUT_MS = 20_000;

/**
 * A threaded wasm start that has not answered by then is taken as blocked: a host's policy (a CSP without
 * `blob:` workers) stops its thread pool without an error, and tfjs would wait forever. wasm then starts on
 * one thread.
 */
const WASM_THREADS_TIMEOUT_MS = 10_000;

export interface BackendOptions {
  /**
   * One backend, or the order to try. Default `BACKEND_ORDER`, skipping GPU backends that turn out to
   * be software renderers (SwiftShader, llvmpipe: tens of times slower than wasm); a backend named
   * here is used even then.
   */
  backend?: BackendName | readonly BackendName[];
  /** Folder (URL) holding tfjs-backend-wasm's `.wasm` files, for bundled apps. */
  wasmPaths?: string;
  /** Start-up limit of each GPU backend; default 20 s. */
  backendTimeoutMs?: number;
  /**
   * wasm threads; default one per logical core, at most `MAX_WASM_THREADS`. More than one needs a
   * cross-origin isolated page (SharedArrayBuffer); elsewhere wasm runs on one thread.
   */
  threads?: number;
  /**
   * tfjs WebGPU flags over `WEBGPU_FLAGS`, for tuning on a new GPU (`npm run bench -- --webgpu-flags`);
   * they stay set for later loads too.
   */
  webgpuFlags?: TfjsFlags;
}

type TfjsFlags = Record<string, number | boolean | string>;

/**
 * Measured on an H200 (docs/gpu.md, `scripts/gpu/run.sh` sweeps): a submit every 16 kernels lets the GPU
 * run while JavaScript records the rest, 29.7 ms an encode against 47.7 ms with one submit at the end; small
 * ops stay on the GPU rather than read back to run on the CPU.
 */
export const WEBGPU_FLAGS: TfjsFlags = { WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: 16, WEBGPU_CPU_FORWARD: false };

/**
 * tfjs's threaded wasm starts a pool of 8 pthread workers; a larger XNNPACK pool would have Emscripten
 * start workers while a kernel waits for them.
 */
export const MAX_WASM_THREADS = 8;

/** The wasm threads to ask for: one per logical core (or `requested`), 1 to `MAX_WASM_THREADS`. */
export function wasmThreadCount(requested?: number): number {
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(Math.floor(requested ?? cores), MAX_WASM_THREADS));
}

/**
 * Starts the first backend of the list that works and says why the ones before it did not.
 * Backends load lazily, so an app that only ever runs wasm does not download the WebGPU kernels.
 */
export async function selectBackend(options: BackendOptions = {}): Promise<BackendReport> {
  const { backend, backendTimeoutMs = BACKEND_TIMEOUT_MS, threads } = options;
  const order = typeof backend === 'string' ? [backend] : (backend ?? BACKEND_ORDER);
  const rejected: BackendReport['rejected'] = [];
  const skipSoftware = backend === undefined;
  for (const name of order) {
    const attempt = { abandoned: false };
    try {
      const started = startBackend(name, attempt, skipSoftware, options);
      await (isGPU(name)
        ? withTimeout(started, backendTimeoutMs, new Error(`${name} did not start within ${backendTimeoutMs / 1000} s`))
        : started);
    } catch (e) {
      attempt.abandoned = true;
      abandonPendingInit();
      rejected.push({ name, reason: (e as Error).message || String(e) });
      continue;
    }
    return name === 'wasm' ? { name, rejected, wasm: await wasmReport(threads) } : { name, rejected };
  }
  throw new MMNetError('backend', `no tfjs backend could start: ${rejected.map((r) => `${r.name}: ${r.reason}`).join('; ')}`);
}

const isGPU = (name: BackendName) => name === 'webgpu' || name === 'webgl';

async function startBackend(
  name: BackendName,
  attempt: { abandoned: boolean },
  skipSoftware: boolean,
  { wasmPaths, threads, webgpuFlags }: BackendOptions,
): Promise<void> {
  // Found out before tfjs's code for the backend is even loaded.
  const renderer = skipSoftware ? await softwareRenderer(name) : undefined;
  if (renderer) throw new Error(`software renderer (${renderer}), slower than wasm`);
  await registerBackend(name, wasmPaths, threads);
  // Its code arrived after the time limit: switching tfjs to it now would pull the backend chosen since away.
  if (attempt.abandoned) return;
  if (name === 'webgpu' && webgpuFlags) setFlags(webgpuFlags);
  const start = () => startAside(name);
  const started = name === 'wasm' ? await startWasm(threads, start) : await start();
  if (!started) throw new Error(`${name} failed to initialise`);
}

/** Set when threaded wasm did not start and one thread runs instead (the report says so). */
let threadsBlocked = false;

/** Threaded where it can be; where its start fails or hangs (its workers blocked), on one thread. */
async function startWasm(threads: number | undefined, start: () => Promise<boolean>): Promise<boolean> {
  const count = wasmThreadCount(threads);
  if (count === 1 || !(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))) return start();
  const threaded = withTimeout(withLogicalCores(2 * count, start), WASM_THREADS_TIMEOUT_MS, new Error('threaded wasm did not start'));
  if (await threaded.catch(() => false)) return true;
  abandonPendingInit();
  threadsBlocked = true;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  return start();
}

/**
 * tfjs's threaded wasm caps its pool at half of `navigator.hardwareConcurrency` (it assumes two logical
 * cores per physical one), which leaves a 2-core machine one thread; while it starts, it is told twice
 * the count chosen here.
 */
async function withLogicalCores<T>(cores: number, start: () => Promise<T>): Promise<T> {
  const navigator = globalThis.navigator as { hardwareConcurrency?: number } | undefined;
  if (!navigator) return start();
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: cores, configurable: true });
  try {
    return await start();
  } finally {
    delete navigator.hardwareConcurrency; // the browser's own getter again
  }
}

interface EngineInternals {
  pendingBackendInit: unknown;
  pendingBackendInitId: number;
  registry: Record<string, tf.KernelBackend>;
}

const engineInternals = () => tf.engine() as unknown as EngineInternals;

/** Counts `startAside` calls: a start overtaken by a later one (abandoned, timed out) is not switched to. */
let asideStarts = 0;

/**
 * Starts a backend beside the current one, then switches to it. `tf.setBackend` would refuse every op
 * until the start settles (seconds for threaded wasm), and the current backend (cpu, set by
 * `startMatchingBackend`) is matching shipped features meanwhile. What tfjs's own start does on success,
 * done here once the factory has answered.
 */
async function startAside(name: BackendName): Promise<boolean> {
  const start = ++asideStarts;
  const engine = engineInternals();
  if (!engine.registry[name]) {
    const factory = tf.findBackendFactory(name);
    if (!factory) return false;
    const backend = await factory();
    if (start !== asideStarts) return false;
    engine.registry[name] = backend;
  }
  return tf.setBackend(name);
}

/**
 * A backend that is ready at once, for work that needs no weights (reading and matching shipped
 * features) while the fast backend starts beside it (`selectBackend`, which switches to it).
 */
export async function startMatchingBackend(): Promise<void> {
  await registerBackend('cpu');
  // The fast backend may have won the race: stay on it.
  if (tf.getBackend() === undefined) await tf.setBackend('cpu');
}

/**
 * tfjs keeps waiting for a backend whose asynchronous start never settles, and refuses every op
 * meanwhile, even on a backend set later; forget that start (tfjs has no public way to).
 */
function abandonPendingInit(): void {
  const engine = engineInternals();
  engine.pendingBackendInitId++;
  engine.pendingBackendInit = null;
  asideStarts++;
}

async function registerBackend(name: BackendName, wasmPaths?: string, threads?: number): Promise<void> {
  if (tf.findBackendFactory(name)) return;
  switch (name) {
    case 'webgpu':
      return registerWebGPU();
    case 'webgl': {
      if (typeof OffscreenCanvas === 'undefined' && typeof document === 'undefined') throw new Error('no canvas here (not a browser)');
      await import('@tensorflow/tfjs-backend-webgl');
      if (!tf.findBackendFactory('webgl')) throw new Error('WebGL is not available');
      return;
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // One thread: the plain SIMD build, which starts no pthread workers. More: the threaded build,
      // where tfjs finds SharedArrayBuffer usable (a cross-origin isolated page), else the plain one.
      const count = wasmThreadCount(threads);
      if (count === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      else wasm.setThreadsCount(count);
      if (wasmPaths) wasm.setWasmPaths(wasmPaths.endsWith('/') ? wasmPaths : `${wasmPaths}/`);
      return;
    }
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      return;
  }
}

async function wasmReport(requested?: number): Promise<WasmReport> {
  const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  // The single-threaded build has no pool and says -1.
  const threads = Math.max(1, getThreadsCount());
  if (threads > 1) return { simd, threads };
  return threadsBlocked
    ? { simd, threads, singleThreadReason: `threads blocked here (no start within ${WASM_THREADS_TIMEOUT_MS / 1000} s)`, threadsBlocked }
    : { simd, threads, singleThreadReason: singleThreadReason(requested) };
}

function singleThreadReason(requested?: number): string {
  if (wasmThreadCount(requested) === 1) return requested === undefined ? 'one CPU core' : 'one thread asked for';
  if (globalThis.crossOriginIsolated === false) return 'page not cross-origin isolated';
  return 'threaded wasm not available here';
}

/**
 * The software renderer a GPU backend would run on here (SwiftShader, llvmpipe, a fallback adapter), read
 * from a throwaway WebGL context or the WebGPU adapter; undefined for a GPU, or where there is none.
 */
async function softwareRenderer(name: BackendName): Promise<string | undefined> {
  const software = /swiftshader|llvmpipe|softpipe|software|basic render/i;
  if (name === 'webgpu') {
    const gpu = navigatorGPU();
    const adapter = gpu && (await requestAdapter(gpu));
    if (!adapter) return undefined;
    const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
    const description = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ');
    return adapter.isFallbackAdapter || software.test(description) ? description || 'fallback adapter' : undefined;
  }
  if (name !== 'webgl') return undefined;
  const canvas =
    typeof OffscreenCanvas !== 'undefined'
      ? new OffscreenCanvas(1, 1)
      : typeof document !== 'undefined'
        ? document.createElement('canvas')
        : undefined;
  const gl = canvas?.getContext('webgl2') as WebGL2RenderingContext | null | undefined;
  if (!gl) return undefined;
  const debugInfo = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = debugInfo ? String(gl.getParameter(debugInfo.UNMASKED_RENDERER_WEBGL)) : '';
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return software.test(renderer) ? renderer : undefined;
}

const navigatorGPU = () => (globalThis.navigator as (Navigator & { gpu?: GPU }) | undefined)?.gpu;

/** A GPU adapter, else the fallback (software) one, which is slow but correct. */
async function requestAdapter(gpu: GPU): Promise<GPUAdapter | null> {
  return (await gpu.requestAdapter({ powerPreference: 'high-performance' })) ?? (await gpu.requestAdapter({ forceFallbackAdapter: true }));
}

/**
 * tfjs's own WebGPU factory asks only for a high-performance adapter; machines without a GPU (or
 * with a blocklisted one) only offer the fallback (software) adapter, which is slow but correct.
 */
async function registerWebGPU(): Promise<void> {
  const gpu = navigatorGPU();
  if (!gpu) throw new Error('WebGPU is not available (navigator.gpu is missing)');
  // Without an adapter there is nothing to load tfjs's WebGPU code for.
  if (!(await requestAdapter(gpu))) throw new Error('no WebGPU adapter');
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  setFlags(WEBGPU_FLAGS); // registered by that import
  // Importing the package registered tfjs's factory; this one replaces it.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      const adapter = await requestAdapter(gpu);
      if (!adapter) throw new Error('no WebGPU adapter');
      const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
      const limits = adapter.limits;
      // The storage-buffer limits stay at WebGPU's guaranteed minimum (8 per shader stage), so the model
      // that runs on the fallback adapter here runs on every device.
      const device = await adapter.requestDevice({
        requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
        requiredLimits: {
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        },
      });
      // `info` replaced requestAdapterInfo() in newer browsers; tfjs only uses it for vendor tweaks.
      return new WebGPUBackend(device, info);
    },
    3,
  );
}

/** One by one: tf.env().setFlags would reset every other flag. */
function setFlags(flags: TfjsFlags): void {
  for (const [flag, value] of Object.entries(flags)) tf.env().set(flag, value);
}

function withTimeout<T>(promise: Promise<T>, ms: number, error: Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What `filledTensor` and `heapTensor` use of tfjs-backend-wasm's backend (public methods, typed here to keep its module lazy). */
interface WasmHeap {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  disposeData(dataId: tf.DataId): boolean;
}

/**
 * A float32 tensor on the current backend, its values written by `fill`. On wasm they are written straight
 * into the backend's heap: a load's weights (about 150 MB as float32) are not also made as JS arrays and
 * copied, which cost about as much as decoding them (fresh memory is slow to touch).
 */
export function filledTensor(shape: number[], fill: (values: Float32Array) => void): tf.Tensor {
  const reserved = heapTensor(shape);
  if (reserved) {
    fill(reserved.values());
    return reserved.tensor();
  }
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  fill(values);
  return tf.tensor(values, shape, 'float32');
}

/** A float32 tensor's memory in the wasm backend's heap, reserved before its values are written (`heapTensor`). */
export interface HeapTensor {
  /**
   * Where its values go, a view asked for when they are written: growing single-threaded wasm's memory
   * detaches earlier views. Threaded wasm's memory is shared: another thread may fill this view.
   */
  values(): Float32Array;
  /** The tensor, once `values` hold them. */
  tensor(): tf.Tensor;
  /** Gives the memory back, for a tensor that will not be made. */
  free(): void;
}

/**
 * On wasm, a float32 tensor's memory, reserved in the backend's heap for its values to be written later
 * (`filledTensor` writes them at once); undefined on other backends.
 */
export function heapTensor(shape: number[]): HeapTensor | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const heap = tf.backend() as unknown as WasmHeap;
  const info = heap.makeOutput(shape, 'float32');
  return {
    values: () => heap.typedArrayFromHeap(info),
    tensor: () => tf.engine().makeTensorFromTensorInfo(info),
    free: () => void heap.disposeData(info.dataId),
  };
}
