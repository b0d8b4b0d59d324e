/**
 * WebGPU in Node for tfjs, through Dawn's Node bindings (npm `webgpu`): after `installNodeWebGPU()`,
 * `loadMMNet(url, { backend: 'webgpu', fetch })` runs unchanged. Without a GPU the adapter is a Vulkan CPU
 * driver: Mesa ≥ 24 lavapipe (Debian bookworm-backports' `mesa-vulkan-drivers`); Debian 12's own Mesa is
 * rejected by Dawn. `VK_DRIVER_FILES` picks another driver (e.g. an NVIDIA ICD on a GPU machine).
 */
import { create, globals } from 'webgpu';

/** The lavapipe ICD that backports installs; used when no driver is named. */
export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';

/** Puts `navigator.gpu` and the WebGPU globals on `globalThis`; `dawnFlags` go to Dawn (e.g. toggles). */
export function installNodeWebGPU(dawnFlags: string[] = []): GPU {
  process.env.VK_DRIVER_FILES ??= LAVAPIPE_ICD;
  Object.assign(globalThis, globals);
  const gpu = create(dawnFlags) as GPU;
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  return gpu;
}
