import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import { BASELINE_TILE, planLinear, workgroupBytes, type LinearCapabilities, type LinearVariant } from '../../src/engine/ops/linear-config';

/** Adapter capabilities like Dawn on an H100 (no shader-f16), adjustable; `software` makes it a CPU adapter. */
function adapter(features: string[], workgroupStorage = 32768, languageFeatures = ['packed_4x8_integer_dot_product'], software = false): LinearCapabilities {
  return { features: new Set(features), wgslLanguageFeatures: languageFeatures, maxComputeWorkgroupStorageSize: workgroupStorage, maxComputeInvocationsPerWorkgroup: 256, software };
}

describe('planLinear: which kernels a variant runs', () => {
  it("'auto' runs f32 activations only: the f32 register tile, plus the subgroup kernel for few rows", () => {
    for (const features of [[], ['subgroups'], ['subgroups', 'shader-f16'], ['shader-f16']]) {
      const plan = planLinear('auto', 'Q4_0', adapter(features));
      expect(plan.main.kind).toBe('tiled');
      expect(plan.main.kind === 'tiled' && plan.main.tile.scalar).toBe('f32');
      expect(plan.fewRows?.kind).toBe(features.includes('subgroups') ? 'gemv' : undefined);
    }
  });

  it("'auto' runs the direct kernel on a software adapter, whatever its features", () => {
    for (const features of [[], ['subgroups']]) {
      expect(planLinear('auto', 'Q4_0', adapter(features, 32768, [], true))).toEqual({ main: { kind: 'direct' } });
    }
  });

  it('never picks the f16 tiles without shader-f16, and refuses to when asked', () => {
    const variants: LinearVariant[] = ['auto', 'f32', 'subgroups', 'int8', 'baseline'];
    for (const variant of variants) {
      const plan = planLinear(variant, 'Q8_0', adapter(['subgroups']));
      for (const kernel of [plan.main, plan.fewRows]) expect(kernel && 'tile' in kernel ? kernel.tile.scalar : 'none').not.toBe('f16');
    }
    expect(() => planLinear('f16', 'Q8_0', adapter(['subgroups']))).toThrow(/shader-f16/);
    const f16 = planLinear('f16', 'Q8_0', adapter(['shader-f16']));
    expect(f16.main.kind === 'tiled' && f16.main.tile.scalar).toBe('f16');
  });

  it('needs subgroups for the subgroup variant', () => {
    expect(() => planLinear('subgroups', 'F16', adapter([]))).toThrow(EngineError);
    expect(planLinear('subgroups', 'F16', adapter(['subgroups'])).main.kind).toBe('gemv');
  });

  it('needs packed_4x8_integer_dot_product and block-quantized weights for int8', () => {
    expect(planLinear('int8', 'Q5_1', adapter([])).main.kind).toBe('int8');
    expect(() => planLinear('int8', 'Q5_1', adapter([], 32768, []))).toThrow(/packed_4x8_integer_dot_product/);
    expect(() => planLinear('int8', 'BF16', adapter([]))).toThrow(/block-quantized/);
  });

  it('picks the largest tile that fits the workgroup memory, and says when none does', () => {
    for (const [storage, rows] of [[49152, 128], [32768, 128], [16384, 64]]) {
      const plan = planLinear('f32', 'Q4_0', adapter([], storage));
      expect(plan.main.kind === 'tiled' && plan.main.tile.rows).toBe(rows);
      expect(plan.main.kind === 'tiled' && workgroupBytes(plan.main.tile)).toBeLessThanOrEqual(storage);
    }
    expect(() => planLinear('f32', 'Q4_0', adapter([], 8192))).toThrow(expect.objectContaining({ code: 'limits-too-small' }));
    expect(planLinear('baseline', 'F32', adapter([], 8192)).main).toEqual({ kind: 'tiled', tile: BASELINE_TILE });
  });

  it('checks a custom tile shape before any WGSL sees it', () => {
    const custom = { rows: 64, cols: 64, depth: 32, threadTile: 8, swizzle: 7, scalar: 'f32' as const };
    expect(planLinear('f32', 'F16', adapter([]), custom).main).toEqual({ kind: 'tiled', tile: custom });
    expect(() => planLinear('f32', 'F16', adapter([]), { ...custom, depth: 48 })).toThrow(/multiple of 32/);
    expect(() => planLinear('f32', 'F16', adapter([]), { ...custom, threadTile: 2 })).toThrow(/threadTile/);
    expect(() => planLinear('f32', 'F16', adapter([]), { ...custom, swizzle: 5 })).toThrow(/swizzle/);
    expect(() => planLinear('f32', 'F16', adapter([]), { ...custom, scalar: 'u32' })).toThrow(/stages f32 tiles/);
    expect(() => planLinear('f32', 'F16', adapter([]), { ...custom, rows: 256, cols: 256, threadTile: 4 })).toThrow(/threads exceed/);
  });
});
