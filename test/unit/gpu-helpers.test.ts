import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/engine/errors';
import { locate } from '../../src/engine/gpu/kernels';
import { grid1d } from '../../src/engine/ops/grid';
import { f32, i32, params, u32 } from '../../src/engine/ops/params';

describe('locate (shader line mapping)', () => {
  const sources = [
    { file: 'a.wgsl', code: 'line1\nline2' },
    { file: 'b.wgsl', code: 'b1\nb2\nb3' },
  ];
  it.each([
    [1, 'a.wgsl', 1],
    [2, 'a.wgsl', 2],
    [3, 'b.wgsl', 1],
    [5, 'b.wgsl', 3],
  ])('maps module line %i to %s:%i', (moduleLine, file, line) => {
    expect(locate(sources, moduleLine)).toEqual({ file, line });
  });
});

describe('grid1d', () => {
  it.each([1, 255, 256, 257, 65535 * 256, 65535 * 256 + 1, 40_000_000])('covers %i elements within the dispatch limit', (count) => {
    const grid = grid1d(count, 256, 65535);
    const [x, y] = grid.workgroups;
    expect(x).toBeLessThanOrEqual(65535);
    expect(y).toBeLessThanOrEqual(65535);
    expect(x * y * 256).toBeGreaterThanOrEqual(count);
    // The last row starts before `count`, so no row of threads is wasted entirely.
    expect((y - 1) * grid.rowStride).toBeLessThan(count);
  });
});

describe('params', () => {
  it('packs tagged scalars as 4-byte little-endian fields padded to 16 bytes', () => {
    const block = params(u32(7), f32(1.5), i32(-2));
    expect(block.byteLength).toBe(16);
    const view = new DataView(block.buffer);
    expect(view.getUint32(0, true)).toBe(7);
    expect(view.getFloat32(4, true)).toBe(1.5);
    expect(view.getInt32(8, true)).toBe(-2);
  });
});

describe('formatBytes', () => {
  it.each([
    [512, '512 B'],
    [1536, '1.5 KiB'],
    [128 * 2 ** 20, '128.0 MiB'],
    [9 * 2 ** 30, '9.0 GiB'],
  ])('%i -> %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});
