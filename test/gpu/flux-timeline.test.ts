import { afterAll, describe, expect, it } from 'vitest';
import { FluxSample, FluxScratch, tokensOf, type FluxShape } from '../../src/engine/models/flux/activations';
import type { FluxConfig } from '../../src/engine/models/flux/config';
import { FLUX_FAMILIES, fluxTimeline, UNATTRIBUTED } from '../../src/engine/models/flux/timeline';
import { FluxTransformer, type FluxPrecision } from '../../src/engine/models/flux/transformer';
import { loadFluxWeights } from '../../src/engine/models/flux/weights';
import { tinyFluxGguf } from '../../tools/tiny-models/flux';
import { openNodeGpu } from '../../tools/node-gpu';
import { openInMemory } from '../helpers/flux';
import { freshSeed, randomArray } from '../helpers/random';

const SHAPE: FluxShape = { textTokens: 7, rows: 3, cols: 5 };

/** Dispatches per family of one forward pass, counted from the model's structure (spec/flux.md §1). */
function expectedDispatches(config: FluxConfig, precision: FluxPrecision): Record<string, number> {
  const { doubleBlocks: d, singleBlocks: s } = config;
  const streams = 2 * d + s;
  return {
    // time_in, guidance_in and vector_in (two layers each), txt_in, img_in
    'linear embedders': 2 * (config.guidance ? 3 : 2) + 2,
    'linear modulation': streams + 1,
    'linear qkv': 3 * streams,
    'linear proj': streams,
    'linear mlp up': streams,
    'linear mlp down': streams,
    'linear final': 1,
    // int8: the attention output and the GELU activations are quantized by their layer; the
    // normalised rows come quantized from the fused LayerNorm
    ...(precision === 'fast' ? { 'int8 quantize': 2 * streams } : {}),
    attention: d + s,
    norms: 4 * d + s + 1,
    'qk norm + rope': streams,
    // silu inside each conditioning MLP, and silu(vec)
    elementwise: (config.guidance ? 3 : 2) + 1,
  };
}

describe('FLUX step timeline from timestamp queries (tiny model)', () => {
  const opening = openNodeGpu({ software: true, profile: true });
  afterAll(async () => (await opening).destroy());

  it.each(['exact', 'fast'] as const)('%s: attributes every dispatch to a family, and the rows add up to the step', async (precision) => {
    const gpu = await opening;
    const { file, plan } = await openInMemory('tiny.gguf', tinyFluxGguf({ weights: 'Q4_0', vectors: 'F32' }));
    const weights = await loadFluxWeights(gpu, file, plan);
    const transformer = await FluxTransformer.create(gpu, weights, { precision });
    expect(transformer.precision).toBe(precision);
    const seed = freshSeed(`flux timeline ${precision}`);
    const scratch = await FluxScratch.create(gpu, plan.config, tokensOf(SHAPE));
    const sample = await FluxSample.create(gpu, plan.config, 'timeline', SHAPE, randomArray(seed, SHAPE.textTokens * plan.config.contextDim), randomArray(seed, plan.config.vecDim));
    gpu.memory.upload(sample.currentLatents.buffer, randomArray(seed, SHAPE.rows * SHAPE.cols * 64));

    gpu.setProfiling(false);
    expect(await transformer.forward(sample, scratch, 0.5, 3.5)).toEqual([]);
    await gpu.idle();
    const plain = await gpu.memory.readU32(sample.velocity.buffer);

    gpu.setProfiling(true);
    const started = performance.now();
    const timings = await transformer.forward(sample, scratch, 0.5, 3.5);
    const wallMs = performance.now() - started;
    // Profiling changes how dispatches are grouped into passes, not what they compute.
    expect(await gpu.memory.readU32(sample.velocity.buffer)).toEqual(plain);

    const timeline = fluxTimeline(timings);
    expect(timeline.rows.map((row) => row.family)).not.toContain(UNATTRIBUTED);
    expect(Object.fromEntries(timeline.rows.map((row) => [row.family, row.dispatches]))).toEqual(expectedDispatches(plan.config, precision));
    expect(timeline.dispatches).toBe(timings.length);
    expect(timeline.rows.every((row) => FLUX_FAMILIES.includes(row.family) && row.ms >= 0)).toBe(true);
    const sum = timeline.rows.reduce((total, row) => total + row.ms, timeline.betweenMs);
    expect(Math.abs(sum - timeline.spanMs)).toBeLessThan(1e-6);
    // The GPU clock and the host clock agree on the scale: the step fits in the wall time around it.
    expect(timeline.spanMs).toBeGreaterThan(0);
    expect(timeline.spanMs).toBeLessThanOrEqual(wallMs);
    expect(timeline.rows.reduce((total, row) => total + row.ms, 0)).toBeGreaterThan(0.1 * timeline.spanMs);
    transformer.release();
    sample.release();
    scratch.release();
    weights.release();
  });
});
