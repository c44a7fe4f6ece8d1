// WebGPU in Node through Dawn (the `webgpu` package). On machines without a GPU, Dawn needs
// Vulkan pointed at SwiftShader (shipped by Debian's chromium package): see ../shared/testing.md.

import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { EngineError } from '../src/engine/errors';
import { GpuRuntime, type GpuRuntimeOptions } from '../src/engine/gpu/runtime';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Dawn toggles: allow_unsafe_apis exposes experimental features such as subgroup matrices;
 * without timestamp quantization (a browser's defence against timing attacks) the profiler's
 * per-dispatch times keep their full resolution.
 */
const DAWN_TOGGLES = ['allow_unsafe_apis'];
const DISABLED_DAWN_TOGGLES = ['timestamp_quantization'];

let installed = false;

/** The Node equivalent of navigator.gpu, with Dawn toggles beyond the default ones. */
export function nodeGpu(toggles: readonly string[] = []): GPU {
  if (!installed) {
    Object.assign(globalThis, globals);
    installed = true;
  }
  return create([`enable-dawn-features=${[...DAWN_TOGGLES, ...toggles].join(',')}`, `disable-dawn-features=${DISABLED_DAWN_TOGGLES.join(',')}`]);
}

/**
 * Opens a GpuRuntime in Node. With `software`, Vulkan is pointed at SwiftShader (unless the
 * caller already chose an ICD) and a missing SwiftShader is reported with the command that
 * installs it.
 */
export async function openNodeGpu(options: GpuRuntimeOptions & { software?: boolean; dawnToggles?: readonly string[] } = {}): Promise<GpuRuntime> {
  if (options.software) requireSwiftShader();
  try {
    return await GpuRuntime.open(nodeGpu(options.dawnToggles), options);
  } catch (error) {
    if (error instanceof EngineError && error.code === 'no-adapter') {
      throw new EngineError(
        'no-adapter',
        `Dawn found no Vulkan adapter (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'}).`,
        `On a machine without a GPU: apt-get install -y chromium libvulkan1 and set VK_ICD_FILENAMES=${SWIFTSHADER_ICD}.`,
      );
    }
    throw error;
  }
}

function requireSwiftShader(): void {
  process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
  const icd = process.env.VK_ICD_FILENAMES;
  if (!existsSync(icd)) {
    throw new Error(`SwiftShader's Vulkan ICD is missing (${icd}). Fix: apt-get update && apt-get install -y chromium libvulkan1`);
  }
}
