// Shared set-up of the GPU tests: one Dawn + SwiftShader runtime per test file, plus helpers to
// upload inputs, poison outputs (so a kernel that skips an element fails the comparison), run a
// recording and read results back.

import { afterAll } from 'vitest';
import type { Recorder } from '../../src/engine/gpu/recorder';
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

/** A storage buffer of `count` 4-byte elements, every one set to a NaN. */
export async function poisonedBuffer(gpu: GpuRuntime, label: string, count: number): Promise<GPUBuffer> {
  return gpu.memory.uploadNew(label, new Uint32Array(count).fill(POISON));
}

/** Uploads typed arrays (f32, u32, i32) into new storage buffers. */
export function upload(gpu: GpuRuntime, label: string, data: Float32Array | Uint32Array | Int32Array): Promise<GPUBuffer> {
  return gpu.memory.uploadNew(label, data);
}

/** Records with `record`, submits, and waits for the GPU. */
export async function run(gpu: GpuRuntime, label: string, record: (rec: Recorder) => void): Promise<void> {
  const rec = gpu.recorder(label);
  record(rec);
  await rec.submit();
  await gpu.idle();
}

export const readF32 = (gpu: GpuRuntime, buffer: GPUBuffer, count?: number) => gpu.memory.readF32(buffer, count);
export const readU32 = (gpu: GpuRuntime, buffer: GPUBuffer, count?: number) => gpu.memory.readU32(buffer, count);
