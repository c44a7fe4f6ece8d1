// `npm run bench -- --model flux`: one FLUX.1 transformer step (forward pass) at full size with
// random Q4_0 weights generated on the GPU, at 512x512 and 1024x1024, with the memory plan; the
// baseline is the same step on the plain 16x16-tiled linear kernels. --quick: a narrow, shallow
// model on small images, for the software adapter.

import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { FluxSample, FluxScratch, imageTokensOf, tokensOf, type FluxShape } from '../../src/engine/models/flux/activations';
import type { FluxConfig } from '../../src/engine/models/flux/config';
import { FluxTransformer } from '../../src/engine/models/flux/transformer';
import { randomFluxWeights } from '../../src/engine/models/flux/weights';
import type { LinearVariant } from '../../src/engine/ops/linear-config';
import { gaussianNoise } from '../../src/engine/sampling/noise';
import { memoryPlan } from '../cli/memory-plan';
import type { BenchOptions, BenchSuite } from './suite';
import type { BenchRow } from './table';

export const FLUX_DEV: FluxConfig = {
  hidden: 3072, heads: 24, headDim: 128, doubleBlocks: 19, singleBlocks: 38, mlpHidden: 12288,
  inChannels: 64, contextDim: 4096, vecDim: 768, guidance: true, axesDim: [16, 56, 56], theta: 10000,
};

const QUICK: FluxConfig = { ...FLUX_DEV, hidden: 256, heads: 2, doubleBlocks: 1, singleBlocks: 2, mlpHidden: 1024, contextDim: 256, vecDim: 64 };

interface Case {
  name: string;
  shape: FluxShape;
}

const FULL_CASES: Case[] = [
  { name: '512x512', shape: { textTokens: 512, rows: 32, cols: 32 } },
  { name: '1024x1024', shape: { textTokens: 512, rows: 64, cols: 64 } },
];
const QUICK_CASES: Case[] = [{ name: '128x128', shape: { textTokens: 32, rows: 8, cols: 8 } }];

/** Multiply-adds x 2 of one forward pass: the linear layers and the attention (modulations excluded). */
export function fluxStepFlops(config: FluxConfig, shape: FluxShape): number {
  const { hidden: h, mlpHidden: mlp } = config;
  const tokens = tokensOf(shape);
  const perTokenDouble = 3 * h * h + h * h + 2 * h * mlp;
  const perTokenSingle = 3 * h * h + h * mlp + h * (h + mlp);
  const linear = 2 * tokens * (config.doubleBlocks * perTokenDouble + config.singleBlocks * perTokenSingle);
  const attention = 4 * tokens * tokens * h * (config.doubleBlocks + config.singleBlocks);
  return linear + attention;
}

/**
 * Median wall-clock ms of one forward pass. The baseline kernels are ~25x slower at full size, so
 * they run once, without warm-up, outside --quick.
 */
async function timeStep(gpu: GpuRuntime, config: FluxConfig, testCase: Case, variant: LinearVariant, options: BenchOptions, weights: Awaited<ReturnType<typeof randomFluxWeights>>): Promise<number> {
  const timing = variant === 'baseline' && !options.quick ? { warmup: 0, repetitions: 1 } : options.timing;
  const transformer = await FluxTransformer.create(gpu, weights, { variant });
  const scratch = await FluxScratch.create(gpu, config, tokensOf(testCase.shape));
  const { textTokens } = testCase.shape;
  const sample = await FluxSample.create(gpu, config, 'bench', testCase.shape, gaussianNoise(1, textTokens * config.contextDim), gaussianNoise(2, config.vecDim));
  gpu.memory.upload(sample.currentLatents.buffer, gaussianNoise(3, imageTokensOf(testCase.shape) * config.inChannels));
  if (variant !== 'baseline') options.log(memoryPlan(gpu.memory).join('\n'));
  const samples: number[] = [];
  for (let i = 0; i < timing.warmup + timing.repetitions; i++) {
    const started = performance.now();
    await transformer.forward(sample, scratch, 0.7, 3.5);
    await gpu.idle();
    if (i >= timing.warmup) samples.push(performance.now() - started);
  }
  sample.release();
  scratch.release();
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

export const fluxSuite: BenchSuite = {
  name: 'flux',
  description: 'one FLUX.1-dev transformer step, random Q4_0 weights generated on the GPU (wall clock per step)',
  async run(gpu, options) {
    const config = options.quick ? QUICK : FLUX_DEV;
    const cases = options.quick ? QUICK_CASES : FULL_CASES;
    gpu.memory.resetPeak();
    const weights = await randomFluxWeights(gpu, config, 'Q4_0');
    options.log(`weights: ${(weights.bytes / 2 ** 30).toFixed(2)} GiB (${config.doubleBlocks} double + ${config.singleBlocks} single blocks, hidden ${config.hidden})`);
    const rows: BenchRow[] = [];
    for (const testCase of cases) {
      const ms = await timeStep(gpu, config, testCase, 'auto', options, weights);
      const peak = gpu.memory.peakBytes;
      const baselineMs = await timeStep(gpu, config, testCase, 'baseline', options, weights);
      rows.push({
        group: 'flux',
        name: `flux step ${testCase.name}${options.quick ? ' (quick model)' : ''}`,
        kernel: 'auto',
        ms,
        flops: fluxStepFlops(config, testCase.shape),
        bytes: weights.bytes,
        baseline: { kernel: 'baseline linear', ms: baselineMs },
        note: `peak GPU memory ${(peak / 2 ** 30).toFixed(2)} GiB`,
      });
      options.log(`${testCase.name}: ${ms.toFixed(1)} ms/step (baseline ${baselineMs.toFixed(1)}), peak GPU memory ${(peak / 2 ** 30).toFixed(2)} GiB`);
    }
    weights.release();
    return rows;
  },
};
