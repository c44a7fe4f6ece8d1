// `npm run bench -- --model flux`: one FLUX.1 transformer step (forward pass) at full size with
// random Q4_0 weights generated on the GPU, at 512x512 and 1024x1024, with the memory plan; the
// baseline is the same step on the plain 16x16-tiled linear kernels (--skip-baseline leaves it
// out), and where the adapter has int8 dot products the 'fast' precision is timed against the
// exact step. Steps are timed with profiling off (wall clock, nothing waits between blocks);
// --profile then profiles one more step per precision and prints its timeline: the GPU time of
// every kernel family and the time between dispatches, adding up to the step's span on the GPU.
// --quick: a narrow, shallow model on small images, for the software adapter.

import type { KernelTiming } from '../../src/engine/gpu/profiler';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import type { Timeline } from '../../src/engine/gpu/timeline';
import { FluxSample, FluxScratch, imageTokensOf, tokensOf, type FluxShape } from '../../src/engine/models/flux/activations';
import type { FluxConfig } from '../../src/engine/models/flux/config';
import { fluxTimeline } from '../../src/engine/models/flux/timeline';
import { FluxTransformer, linearTag, type FluxTransformerOptions } from '../../src/engine/models/flux/transformer';
import { randomFluxWeights, type FluxWeights } from '../../src/engine/models/flux/weights';
import { gaussianNoise } from '../../src/engine/sampling/noise';
import { memoryPlan } from '../cli/memory-plan';
import type { BenchOptions, BenchSuite } from './suite';
import type { BenchRow } from './table';

export const FLUX_DEV: FluxConfig = {
  hidden: 3072, heads: 24, headDim: 128, doubleBlocks: 19, singleBlocks: 38, mlpHidden: 12288,
  inChannels: 64, contextDim: 4096, vecDim: 768, guidance: true, axesDim: [16, 56, 56], theta: 10000,
};

export const QUICK: FluxConfig = { ...FLUX_DEV, hidden: 256, heads: 2, doubleBlocks: 1, singleBlocks: 2, mlpHidden: 1024, contextDim: 256, vecDim: 64 };

export interface Case {
  name: string;
  shape: FluxShape;
}

export const FULL_CASES: Case[] = [
  { name: '512x512', shape: { textTokens: 512, rows: 32, cols: 32 } },
  { name: '1024x1024', shape: { textTokens: 512, rows: 64, cols: 64 } },
];
export const QUICK_CASES: Case[] = [{ name: '128x128', shape: { textTokens: 32, rows: 8, cols: 8 } }];

/**
 * Multiply-adds x 2 of one forward pass by timeline family: every block (double or single) has
 * per token a qkv projection (3h x h), an output projection (h x h) and an MLP (h -> mlp -> h),
 * and attends over all tokens.
 */
export function fluxFamilyFlops(config: FluxConfig, shape: FluxShape): Record<string, number> {
  const { hidden: h, mlpHidden: mlp, doubleBlocks, singleBlocks } = config;
  const tokens = tokensOf(shape);
  const image = imageTokensOf(shape);
  const blocks = doubleBlocks + singleBlocks;
  const conditioningMlps = (config.guidance ? 2 : 1) * (256 * h + h * h) + (config.vecDim * h + h * h);
  return {
    [linearTag('qkv')]: 2 * tokens * 3 * h * h * blocks,
    [linearTag('proj')]: 2 * tokens * h * h * blocks,
    [linearTag('mlp up')]: 2 * tokens * h * mlp * blocks,
    [linearTag('mlp down')]: 2 * tokens * mlp * h * blocks,
    [linearTag('modulation')]: 2 * h * h * (2 * 6 * doubleBlocks + 3 * singleBlocks + 2),
    [linearTag('embedders')]: 2 * (shape.textTokens * config.contextDim * h + image * config.inChannels * h + conditioningMlps),
    [linearTag('final')]: 2 * image * h * config.inChannels,
    attention: 4 * tokens * tokens * h * blocks,
  };
}

/** Multiply-adds x 2 of one forward pass: the blocks' linear layers and the attention (modulations, embedders and final layer excluded). */
export function fluxStepFlops(config: FluxConfig, shape: FluxShape): number {
  const families = fluxFamilyFlops(config, shape);
  return (['qkv', 'proj', 'mlp up', 'mlp down'] as const).reduce((sum, role) => sum + families[linearTag(role)], families.attention);
}

export interface Step {
  transformer: FluxTransformer;
  /** one forward pass; the GPU timing of every dispatch when profiling is on */
  forward: () => Promise<KernelTiming[]>;
  /** the last forward pass's velocity [imageTokens, 64] */
  velocity: () => Promise<Float32Array>;
  release: () => void;
}

/** A transformer with its scratch and one sample of the case (inputs fixed by seed), ready to run forward passes. */
export async function prepareStep(gpu: GpuRuntime, weights: FluxWeights, testCase: Case, options: FluxTransformerOptions): Promise<Step> {
  const { config } = weights;
  const transformer = await FluxTransformer.create(gpu, weights, options);
  const scratch = await FluxScratch.create(gpu, config, tokensOf(testCase.shape));
  const { textTokens } = testCase.shape;
  const sample = await FluxSample.create(gpu, config, 'bench', testCase.shape, gaussianNoise(1, textTokens * config.contextDim), gaussianNoise(2, config.vecDim));
  gpu.memory.upload(sample.currentLatents.buffer, gaussianNoise(3, imageTokensOf(testCase.shape) * config.inChannels));
  return {
    transformer,
    forward: async () => {
      const timings = await transformer.forward(sample, scratch, 0.7, 3.5);
      await gpu.idle();
      return timings;
    },
    velocity: () => gpu.memory.readF32(sample.velocity.buffer),
    release: () => {
      transformer.release();
      sample.release();
      scratch.release();
    },
  };
}

/** Median wall-clock ms of one forward pass, profiling off (the baseline kernels are ~25x slower: once, outside --quick). */
async function medianStepMs(gpu: GpuRuntime, step: Step, timing: BenchOptions['timing']): Promise<number> {
  gpu.setProfiling(false);
  const samples: number[] = [];
  for (let i = 0; i < timing.warmup + timing.repetitions; i++) {
    const started = performance.now();
    await step.forward();
    if (i >= timing.warmup) samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/** The timeline of one more forward pass, profiled. */
async function profiledTimeline(gpu: GpuRuntime, step: Step): Promise<Timeline> {
  gpu.setProfiling(true);
  try {
    return fluxTimeline(await step.forward());
  } finally {
    gpu.setProfiling(false);
  }
}

/** The timeline as rows of the bench table (and lines of the log): families, time between dispatches, the span. */
function timelineRows(timeline: Timeline, name: string, flops: Record<string, number>, wallMs: number): BenchRow[] {
  const share = (ms: number) => `${((100 * ms) / timeline.spanMs).toFixed(1)}% of the profiled step`;
  const row = (kernel: string, ms: number, note: string, rowFlops = 0): BenchRow => ({ group: 'flux timeline', name, kernel, ms, flops: rowFlops, bytes: 0, note });
  const kernelsMs = timeline.spanMs - timeline.betweenMs;
  return [
    ...timeline.rows.map(({ family, ms, dispatches }) => row(family, ms, `${dispatches} dispatches, ${share(ms)}`, flops[family])),
    row('between dispatches', timeline.betweenMs, share(timeline.betweenMs)),
    row('profiled step (GPU span)', timeline.spanMs, `${timeline.dispatches} dispatches, one pass each; unprofiled wall clock ${wallMs.toFixed(1)} ms, of which ${(wallMs - kernelsMs).toFixed(1)} ms outside the kernels`),
  ];
}

interface Measured {
  label: string;
  ms: number;
}

async function measureCase(gpu: GpuRuntime, weights: FluxWeights, testCase: Case, options: BenchOptions): Promise<BenchRow[]> {
  const { config } = weights;
  const name = `flux step ${testCase.name}${options.quick ? ' (quick model)' : ''}`;
  const flops = fluxFamilyFlops(config, testCase.shape);
  const rows: BenchRow[] = [];
  const measured: Measured[] = [];
  gpu.memory.resetPeak();
  for (const [label, stepOptions] of [['exact (auto)', { precision: 'exact' }], ['fast (int8 activations)', { precision: 'fast' }]] as const) {
    const step = await prepareStep(gpu, weights, testCase, stepOptions);
    if (label !== 'exact (auto)' && step.transformer.precision !== 'fast') {
      options.log(`${name}: no int8 dot products on this adapter, 'fast' runs exact: not measured`);
      step.release();
      continue;
    }
    if (measured.length === 0) options.log(memoryPlan(gpu.memory).join('\n'));
    const ms = await medianStepMs(gpu, step, options.timing);
    measured.push({ label, ms });
    options.log(`${name} ${label}: ${ms.toFixed(1)} ms/step`);
    if (options.profile) {
      const timeline = await profiledTimeline(gpu, step);
      const table = timelineRows(timeline, `${name} ${label} timeline`, flops, ms);
      for (const line of table) options.log(`  ${line.kernel.padEnd(26)} ${line.ms.toFixed(3).padStart(10)} ms  ${line.note}`);
      rows.push(...table);
    }
    step.release();
  }
  const peak = gpu.memory.peakBytes;
  const note = `peak GPU memory ${(peak / 2 ** 30).toFixed(2)} GiB`;
  const [exact, ...others] = measured;
  const stepFlops = fluxStepFlops(config, testCase.shape);
  const baseline = options.skipBaseline ? undefined : await baselineMs(gpu, weights, testCase, options);
  rows.unshift(
    { group: 'flux', name, kernel: exact.label, ms: exact.ms, flops: stepFlops, bytes: weights.bytes, ...(baseline === undefined ? {} : { baseline: { kernel: 'baseline linear', ms: baseline } }), note },
    ...others.map((other) => ({ group: 'flux', name, kernel: other.label, ms: other.ms, flops: stepFlops, bytes: weights.bytes, baseline: { kernel: exact.label, ms: exact.ms }, note })),
  );
  return rows;
}

async function baselineMs(gpu: GpuRuntime, weights: FluxWeights, testCase: Case, options: BenchOptions): Promise<number> {
  const step = await prepareStep(gpu, weights, testCase, { variant: 'baseline' });
  try {
    return await medianStepMs(gpu, step, options.quick ? options.timing : { warmup: 0, repetitions: 1 });
  } finally {
    step.release();
  }
}

/**
 * Full-size FLUX.1-dev (or the quick model) with random Q4_0 weights made on the GPU, measured by
 * `measure` at each case's size; the weights are freed at the end.
 */
export async function runFluxCases(gpu: GpuRuntime, options: BenchOptions, measure: (weights: FluxWeights, testCase: Case) => Promise<BenchRow[]>): Promise<BenchRow[]> {
  const config = options.quick ? QUICK : FLUX_DEV;
  const weights = await randomFluxWeights(gpu, config, 'Q4_0');
  options.log(`weights: ${(weights.bytes / 2 ** 30).toFixed(2)} GiB (${config.doubleBlocks} double + ${config.singleBlocks} single blocks, hidden ${config.hidden})`);
  try {
    const rows: BenchRow[] = [];
    for (const testCase of options.quick ? QUICK_CASES : FULL_CASES) rows.push(...(await measure(weights, testCase)));
    return rows;
  } finally {
    weights.release();
  }
}

export const fluxSuite: BenchSuite = {
  name: 'flux',
  description: 'one FLUX.1-dev transformer step, random Q4_0 weights generated on the GPU (wall clock per step; --profile: its timeline)',
  run: (gpu, options) => runFluxCases(gpu, options, (weights, testCase) => measureCase(gpu, weights, testCase, options)),
};
