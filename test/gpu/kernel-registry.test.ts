import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import { testGpu } from './harness';

const GOOD = `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1) fn main() { out[0] = helper(); }`;
const HELPER = `// a helper file
fn helper() -> f32 {
  return 2.0;
}`;
const BROKEN_HELPER = `// a helper file
fn helper() -> f32 {
  let x: i32 = 1.5;
  return f32(x);
}`;

describe('kernel registry', () => {
  it('names the shader file and line of a WGSL compile error, across concatenated sources', async () => {
    const gpu = await testGpu();
    const spec = {
      name: 'broken',
      sources: [{ file: 'shaders/good.wgsl', code: GOOD }, { file: 'shaders/broken-helper.wgsl', code: BROKEN_HELPER }],
      entryPoint: 'main',
      storage: ['out'],
      params: false,
    };
    const error = await gpu.kernels.get(spec).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('shader-compile');
    expect((error as EngineError).message).toMatch(/^WGSL error in shaders\/broken-helper\.wgsl:3:\d+: /);
  });

  it('compiles a module once and returns the cached pipeline', async () => {
    const gpu = await testGpu();
    const spec = { name: 'good', sources: [{ file: 'shaders/good.wgsl', code: GOOD }, { file: 'shaders/helper.wgsl', code: HELPER }], entryPoint: 'main', storage: ['out'], params: false };
    const first = await gpu.kernels.get(spec);
    const second = await gpu.kernels.get({ ...spec });
    expect(second.pipeline).toBe(first.pipeline);
  });

  it('rejects a binding larger than the storage binding limit before dispatch', async () => {
    const gpu = await testGpu();
    const kernel = await gpu.kernels.get({ name: 'good', sources: [{ file: 'shaders/good.wgsl', code: GOOD }, { file: 'shaders/helper.wgsl', code: HELPER }], entryPoint: 'main', storage: ['out'], params: false });
    const fake = { size: gpu.limits.maxStorageBufferBindingSize + 256, label: 'huge' } as GPUBuffer;
    const rec = gpu.recorder('limit check');
    expect(() => rec.dispatch(kernel, { out: fake }, undefined, [1])).toThrowError(/binding "out" is .* over this GPU's storage binding limit/);
  });
});
