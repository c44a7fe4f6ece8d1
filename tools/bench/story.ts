// `npm run bench -- --suite story`: a whole story, identity + 4 frames, end to end and stage by
// stage, against 5 plain images through the same stages in the same run: encode (T5-XXL and
// CLIP-L, one prompt per picture), transformer (CharaConsist's lockstep passes, or plain
// sampling), decode (one VAE decoder for all pictures). Every model has random full-size weights
// made on the GPU (no files), each set up before its stage and freed after it, as the pipeline
// loads them; set-up time is reported apart. Full size: 512x512, dev-50 scaled to 6 steps;
// --quick: narrow models on 32x32 pictures, 4 steps.

import { runStory } from '../../src/engine/characonsist/runner';
import { formatBytes } from '../../src/engine/errors';
import { scaledSchedule } from '../../src/engine/characonsist/schedule';
import type { StoryImage, TransformerStory } from '../../src/engine/characonsist/story';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import type { ClipConfig } from '../../src/engine/models/clip/config';
import { ClipTextEncoder } from '../../src/engine/models/clip/encoder';
import { FluxSample, FluxScratch, tokensOf } from '../../src/engine/models/flux/activations';
import type { FluxConfig } from '../../src/engine/models/flux/config';
import { sampleFlux } from '../../src/engine/models/flux/sampler';
import { FluxTransformer } from '../../src/engine/models/flux/transformer';
import { randomFluxWeights } from '../../src/engine/models/flux/weights';
import type { T5Config } from '../../src/engine/models/t5/config';
import { T5Encoder } from '../../src/engine/models/t5/encoder';
import { FLUX_VAE_DECODER, type VaeDecoderConfig } from '../../src/engine/models/vae/config';
import { VaeDecoder } from '../../src/engine/models/vae/decoder';
import { assembleVaeWeights } from '../../src/engine/models/vae/weights';
import { gaussianNoise } from '../../src/engine/sampling/noise';
import { fluxSchedule } from '../../src/engine/sampling/schedule';
import { BenchBuffers } from './bench-buffers';
import { CLIP_L, QUICK as QUICK_CLIP, randomClipWeights } from './clip';
import { FLUX_DEV, QUICK as QUICK_FLUX } from './flux';
import type { BenchSuite } from './suite';
import { QUICK as QUICK_T5, randomT5Weights, XXL } from './t5';
import type { BenchRow } from './table';
import { QUICK_CASES as QUICK_VAE, randomSource } from './vae';

const FRAMES = 4;
const PICTURES = FRAMES + 1;

interface StoryCase {
  name: string;
  textTokens: number;
  /** token grid side (pixels / 16) */
  grid: number;
  steps: number;
  t5: T5Config;
  clip: ClipConfig;
  flux: FluxConfig;
  vae: VaeDecoderConfig;
}

const FULL: StoryCase = { name: '512x512, 6 steps', textTokens: 512, grid: 32, steps: 6, t5: XXL, clip: CLIP_L, flux: FLUX_DEV, vae: FLUX_VAE_DECODER };
const QUICK: StoryCase = { name: '32x32, 4 steps (quick models)', textTokens: 16, grid: 2, steps: 4, t5: QUICK_T5.config, clip: QUICK_CLIP, flux: QUICK_FLUX, vae: QUICK_VAE[0].config };

interface Stage {
  /** wall ms of the stage's work */
  ms: number;
  /** wall ms of making its random weights */
  setUpMs: number;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

/** T5 and CLIP on one prompt per picture. */
async function encodeStage(gpu: GpuRuntime, c: StoryCase): Promise<Stage> {
  const buffers = new BenchBuffers(gpu, 0x5709);
  try {
    const setUp = await timed(async () => ({ t5: await randomT5Weights(buffers, c.t5), clip: await randomClipWeights(buffers, c.clip) }));
    const work = await timed(async () => {
      const t5 = await T5Encoder.create(gpu, setUp.value.t5);
      const clip = await ClipTextEncoder.create(gpu, setUp.value.clip);
      for (let picture = 0; picture < PICTURES; picture++) {
        await t5.encode(Int32Array.from({ length: c.textTokens }, (_, t) => (t * 7919 + picture) % c.t5.vocab));
        await clip.encode({ ids: Int32Array.from({ length: c.clip.positions }, (_, t) => (t < 20 ? 300 + t + picture : 49407)), length: 20 });
      }
      t5.release();
      clip.release();
    });
    return { ms: work.ms, setUpMs: setUp.ms };
  } finally {
    buffers.releaseAll();
  }
}

function storyImage(c: StoryCase, seed: number): StoryImage {
  return {
    text: gaussianNoise(seed, c.textTokens * c.flux.contextDim),
    textTokens: c.textTokens,
    pooled: gaussianNoise(seed + 1, c.flux.vecDim),
    noise: gaussianNoise(7, c.grid * c.grid * c.flux.inChannels),
    bgLen: Math.floor(c.textTokens / 4),
    realLen: Math.floor(c.textTokens / 2),
    rows: c.grid,
    cols: c.grid,
  };
}

/** The identity and frames with CharaConsist, and the same five pictures sampled plainly. */
async function transformerStage(gpu: GpuRuntime, c: StoryCase): Promise<{ story: Stage & { passes: number }; plain: Stage }> {
  const setUp = await timed(() => randomFluxWeights(gpu, c.flux, 'Q4_0'));
  const weights = setUp.value;
  try {
    const transformer = await FluxTransformer.create(gpu, weights);
    const schedule = { ...scaledSchedule(`dev-50 scaled to ${c.steps} steps`, c.steps, true), guidance: 3.5 };
    const story: TransformerStory = {
      identity: storyImage(c, 1),
      frames: Array.from({ length: FRAMES }, (_, i) => ({ ...storyImage(c, 10 + 10 * i), updateBg: false })),
      shareBg: true,
      useInterpolate: true,
      schedule,
    };
    const lockstep = await timed(() => runStory(gpu, transformer, story));
    const plain = await timed(async () => {
      const shape = { textTokens: c.textTokens, rows: c.grid, cols: c.grid };
      const scratch = await FluxScratch.create(gpu, c.flux, tokensOf(shape));
      for (const image of [story.identity, ...story.frames]) {
        const sample = await FluxSample.create(gpu, c.flux, 'plain', shape, image.text, image.pooled);
        gpu.memory.upload(sample.currentLatents.buffer, image.noise);
        await sampleFlux(gpu, transformer, sample, scratch, { schedule: fluxSchedule(c.steps, c.grid * c.grid, true), guidance: 3.5 });
        sample.release();
      }
      await gpu.idle();
      scratch.release();
    });
    return { story: { ms: lockstep.ms, setUpMs: setUp.ms, passes: lockstep.value.forwardPasses }, plain: { ms: plain.ms, setUpMs: setUp.ms } };
  } finally {
    weights.release();
  }
}

/** One decoder for every picture. */
async function decodeStage(gpu: GpuRuntime, c: StoryCase): Promise<Stage> {
  const setUp = await timed(() => assembleVaeWeights(gpu, c.vae, randomSource(gpu, c.vae)));
  const weights = setUp.value;
  const grid = { rows: c.grid, cols: c.grid };
  const [tokens, rgba] = await Promise.all([
    gpu.memory.uploadNew('story latents', new Float32Array(c.grid * c.grid * 64).map((_, i) => 1.5 * Math.sin(0.37 * i))),
    gpu.memory.allocate('story picture', 4 * 256 * c.grid * c.grid),
  ]);
  try {
    const work = await timed(async () => {
      const decoder = await VaeDecoder.create(gpu, weights);
      for (let picture = 0; picture < PICTURES; picture++) await decoder.decode({ buffer: tokens, offset: 0, stride: 64 }, grid, { rgba: { buffer: rgba, offset: 0 } });
      decoder.release();
    });
    return { ms: work.ms, setUpMs: setUp.ms };
  } finally {
    [tokens, rgba].forEach((buffer) => gpu.memory.release(buffer));
    weights.release();
  }
}

export const storySuite: BenchSuite = {
  name: 'story',
  description: `identity + ${FRAMES} frames end to end, stage by stage (encode, transformer, decode), against ${PICTURES} plain images; random full-size weights`,
  async run(gpu, options) {
    const c = options.quick ? QUICK : FULL;
    gpu.memory.resetPeak();
    const encode = await encodeStage(gpu, c);
    options.log(`encode: ${encode.ms.toFixed(0)} ms for ${PICTURES} prompts (random weights made in ${encode.setUpMs.toFixed(0)} ms)`);
    const { story, plain } = await transformerStage(gpu, c);
    options.log(`transformer: story ${story.ms.toFixed(0)} ms (${story.passes} passes), ${PICTURES} plain images ${plain.ms.toFixed(0)} ms`);
    const decode = await decodeStage(gpu, c);
    options.log(`decode: ${decode.ms.toFixed(0)} ms for ${PICTURES} pictures (weights made in ${decode.setUpMs.toFixed(0)} ms); peak GPU memory ${formatBytes(gpu.memory.peakBytes)}`);
    const row = (stage: string, ms: number, baseline?: number): BenchRow => ({
      group: 'story', name: `story ${c.name}: ${stage}`, kernel: `identity + ${FRAMES} frames`, ms, flops: 0, bytes: 0,
      ...(baseline === undefined ? {} : { baseline: { kernel: `${PICTURES} plain images`, ms: baseline } }),
    });
    const shared = encode.ms + decode.ms;
    return [
      row('encode', encode.ms),
      { ...row('transformer', story.ms, plain.ms), note: `${story.passes} passes against ${PICTURES * c.steps}` },
      row('decode', decode.ms),
      { ...row('whole story', shared + story.ms, shared + plain.ms), note: `weights set up apart: ${(encode.setUpMs + story.setUpMs + decode.setUpMs).toFixed(0)} ms` },
    ];
  },
};
