// `npm run bench -- --characonsist`: the cost of one identity + 4 frames with CharaConsist
// (lockstep, no identity cache) against 5 plain images, at 512x512 with random full-size Q4_0
// weights: transformer passes, ms, peak GPU memory. The schedule is dev-50's, rescaled to fewer
// steps so a run fits a few minutes; --quick: the narrow model on small images.

import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { runStory } from '../../src/engine/characonsist/runner';
import { scaledSchedule } from '../../src/engine/characonsist/schedule';
import type { StoryImage, TransformerStory } from '../../src/engine/characonsist/story';
import { FluxSample, FluxScratch, tokensOf } from '../../src/engine/models/flux/activations';
import type { FluxConfig } from '../../src/engine/models/flux/config';
import { sampleFlux } from '../../src/engine/models/flux/sampler';
import { FluxTransformer } from '../../src/engine/models/flux/transformer';
import { randomFluxWeights } from '../../src/engine/models/flux/weights';
import { gaussianNoise } from '../../src/engine/sampling/noise';
import { fluxSchedule } from '../../src/engine/sampling/schedule';
import { FLUX_DEV, fluxStepFlops } from './flux';
import type { BenchSuite } from './suite';
import type { BenchRow } from './table';

const FRAMES = 4;

function storyImage(config: FluxConfig, seed: number, textTokens: number, grid: number): StoryImage {
  return {
    text: gaussianNoise(seed, textTokens * config.contextDim),
    textTokens,
    pooled: gaussianNoise(seed + 1, config.vecDim),
    noise: gaussianNoise(7, grid * grid * config.inChannels),
    bgLen: Math.floor(textTokens / 4),
    realLen: Math.floor(textTokens / 2),
    rows: grid,
    cols: grid,
  };
}

/** Five plain images through the same transformer and schedule: the baseline. */
async function plainImages(gpu: GpuRuntime, transformer: FluxTransformer, story: TransformerStory): Promise<number> {
  const { identity } = story;
  const shape = { textTokens: identity.textTokens, rows: identity.rows, cols: identity.cols };
  const scratch = await FluxScratch.create(gpu, transformer.config, tokensOf(shape));
  const started = performance.now();
  for (const image of [identity, ...story.frames]) {
    const sample = await FluxSample.create(gpu, transformer.config, 'plain', shape, image.text, image.pooled);
    gpu.memory.upload(sample.currentLatents.buffer, image.noise);
    await sampleFlux(gpu, transformer, sample, scratch, { schedule: fluxSchedule(story.schedule.steps, shape.rows * shape.cols, true), guidance: story.schedule.guidance });
    sample.release();
  }
  await gpu.idle();
  scratch.release();
  return performance.now() - started;
}

export const characonsistSuite: BenchSuite = {
  name: 'characonsist',
  description: `identity + ${FRAMES} frames with CharaConsist (lockstep) against ${FRAMES + 1} plain images, random Q4_0 weights`,
  async run(gpu, options) {
    const config: FluxConfig = options.quick ? { ...FLUX_DEV, hidden: 256, heads: 2, doubleBlocks: 1, singleBlocks: 2, mlpHidden: 1024, contextDim: 256, vecDim: 64 } : FLUX_DEV;
    const [textTokens, grid, steps] = options.quick ? [16, 5, 4] : [512, 32, 10];
    const schedule = { ...scaledSchedule(`dev-50 scaled to ${steps} steps`, steps, true), guidance: 3.5 };
    const story: TransformerStory = {
      identity: storyImage(config, 1, textTokens, grid),
      frames: Array.from({ length: FRAMES }, (_, i) => ({ ...storyImage(config, 10 + 10 * i, textTokens, grid), updateBg: false })),
      shareBg: true,
      useInterpolate: true,
      schedule,
    };
    const weights = await randomFluxWeights(gpu, config, 'Q4_0');
    const transformer = await FluxTransformer.create(gpu, weights);
    gpu.memory.resetPeak();
    const started = performance.now();
    const stages: string[] = [];
    const result = await runStory(gpu, transformer, story, {
      onProgress: ({ pass, passIndex, passes, done }) => {
        if (done > 0) return;
        stages[passIndex] = pass.stage;
        options.log(`pass ${passIndex + 1}/${passes}: ${pass.stage}, ${pass.tracks.length} tracks`);
      },
    });
    const storyMs = performance.now() - started;
    const stageMs = new Map<string, number>();
    result.passMs.forEach((ms, i) => stageMs.set(stages[i], (stageMs.get(stages[i]) ?? 0) + ms));
    options.log(`story by stage: ${[...stageMs].map(([stage, ms]) => `${stage} ${ms.toFixed(0)} ms`).join(', ')}`);
    const plainMs = await plainImages(gpu, transformer, story);
    const plainPasses = (FRAMES + 1) * steps;
    const stepFlops = fluxStepFlops(config, { textTokens, rows: grid, cols: grid });
    options.log(`story: ${result.forwardPasses} transformer passes (official sequential run: ${result.officialForwardPasses}), ${storyMs.toFixed(0)} ms, peak GPU memory ${(result.peakBytes / 2 ** 30).toFixed(2)} GiB`);
    options.log(`plain: ${plainPasses} transformer passes, ${plainMs.toFixed(0)} ms; events: ${result.events.length}`);
    weights.release();
    const row: BenchRow = {
      group: 'characonsist',
      name: `identity + ${FRAMES} frames, ${grid * 16}x${grid * 16}, ${steps} steps${options.quick ? ' (quick model)' : ''}`,
      kernel: `lockstep, ${result.forwardPasses} passes`,
      ms: storyMs,
      flops: result.forwardPasses * stepFlops,
      bytes: weights.bytes,
      baseline: { kernel: `${FRAMES + 1} plain images, ${plainPasses} passes`, ms: plainMs },
      note: `peak GPU memory ${(result.peakBytes / 2 ** 30).toFixed(2)} GiB`,
    };
    return [row];
  },
};
