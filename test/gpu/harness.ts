// Shared set-up of the GPU tests: one Dawn + SwiftShader runtime per test file, plus helpers
// that poison outputs so a kernel that skips an element fails the comparison.

import { afterAll } from 'vitest';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { openNodeGpu } from '../../tools/node-gpu';

let runtime: Promise<GpuRuntime> | undefined;

export function testGpu(): Promise<GpuRuntime> {
  if (!runtime) {
    runtime = openNodeGpu({ software: true });
    afterAll(async () => (await runtime)?.destroy());
  }
  return runtime;
}

/** NaN bit pattern written into outputs before a kernel runs. */
export const POISON = 0x7fc00bad;

/** A storage buffer of `count` f32 elements filled with NaN. */
export async function poisonedBuffer(gpu: GpuRuntime, label: string, count: number): Promise<GPUBuffer> {
  return gpu.memory.uploadNew(label, new Uint32Array(count).fill(POISON));
}
