// The memory estimate (src/engine/store/memory-estimate.ts) against the engine's real peak
// (gpu.memory.peakBytes) on the tiny models, stage by stage and whole: text encoders, a picture's
// transformer stage, the VAE decode, and stories (identity + frames in lockstep batches). The
// estimate may be above the real peak by a stated margin (it must never promise a size that does
// not fit) and never below it, so it cannot drift from what the engine allocates.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelComponent } from '../../src/engine-api';
import { SCHNELL_4 } from '../../src/engine/characonsist/schedule';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { ConditioningCache, encodePrompts } from '../../src/engine/pipeline/conditioning';
import type { FluxModelFiles, Tokenizers } from '../../src/engine/pipeline/models';
import { generateStory, type StoryRequest } from '../../src/engine/pipeline/story';
import { txt2img } from '../../src/engine/pipeline/txt2img';
import { readModelHeader } from '../../src/engine/store/header-check';
import { estimateImage, estimateStory, gpuWeightBytes, RUNTIME_OVERHEAD_BYTES, type MemoryEstimate, type ModelSizes } from '../../src/engine/store/memory-estimate';
import { nodeFileSource, writeFileParts } from '../../tools/node-file-source';
import { openNodeGpu } from '../../tools/node-gpu';
import { loadTokenizers, nodeFileRef } from '../../tools/node-models';
import { tinyVaeBfl } from '../../tools/tiny-models/vae';
import { MODEL_FILES, writeTinyModels } from '../e2e/models';

/**
 * How far above the real peak the estimate may be: the VAE decode is bounded from above (a
 * convolution's whole input and output; the decoder frees input rows as it goes), and the fixed
 * allowance for runtime buffers (uniform chunks, staging) weighs much more on tiny models than on
 * real ones.
 */
const MAX_OVER = 0.25;

const dir = mkdtempSync(path.join(tmpdir(), 'memory-estimate-'));
const COMPONENTS: ModelComponent[] = ['transformer', 't5', 'clip', 'vae'];
/**
 * The decoder with FLUX's own structure (widening channels, three blocks a level), for the VAE
 * stage's own check: the estimate's bound is written for that structure. Stories use the e2e
 * files' cheaper decoder (the same levels and memory plan, decoded four times per story).
 */
const FLUX_STRUCTURE_VAE = 'vae-flux-structure.safetensors';
let gpu: GpuRuntime;
let tokenizers: Tokenizers;
/** the e2e model files (stories) */
let files: FluxModelFiles;
let models: ModelSizes;
/** the same with the FLUX-structure decoder (single pictures) */
let imageFiles: FluxModelFiles;
let imageModels: ModelSizes;

beforeAll(async () => {
  await writeTinyModels(dir);
  await writeFileParts(path.join(dir, FLUX_STRUCTURE_VAE), tinyVaeBfl('F16'));
  gpu = await openNodeGpu({ software: true });
  tokenizers = await loadTokenizers();
  const names = { ...MODEL_FILES };
  [files, models] = await modelFiles(names);
  [imageFiles, imageModels] = await modelFiles({ ...names, vae: FLUX_STRUCTURE_VAE });
});

/** The files named by `names` in the test folder, and the model sizes their headers give. */
async function modelFiles(names: Record<ModelComponent, string>): Promise<[FluxModelFiles, ModelSizes]> {
  const file = (component: ModelComponent) => path.join(dir, names[component]);
  const refs = { transformer: nodeFileRef(file('transformer')), t5: nodeFileRef(file('t5')), clip: nodeFileRef(file('clip')), vae: nodeFileRef(file('vae')) };
  const headers = await Promise.all(COMPONENTS.map(async (component) => {
    const source = await nodeFileSource(file(component));
    try {
      return await readModelHeader(component, { ...source, name: names[component] });
    } finally {
      await source.close?.();
    }
  }));
  const sizes = Object.fromEntries(headers.map((header) => [header.component, { config: header.config, weightBytes: gpuWeightBytes(header.tensors) }])) as unknown as ModelSizes;
  return [refs, sizes];
}
afterAll(() => gpu?.destroy());

/**
 * Peak bytes while `work` runs. What is live before it is what the runtime keeps between calls
 * (uniform chunks, the scratch of cached ops): the estimate's RUNTIME_OVERHEAD_BYTES stands for it.
 */
async function peakOf(work: (resetPeak: () => void) => Promise<unknown>): Promise<number> {
  const retained = gpu.memory.entries();
  console.log(`retained before the run: ${retained.reduce((sum, entry) => sum + entry.bytes, 0)} bytes in ${[...new Set(retained.map((entry) => entry.label))].join(', ')}`);
  expect(gpu.memory.liveBytes).toBeLessThan(RUNTIME_OVERHEAD_BYTES);
  gpu.memory.resetPeak();
  // The story runner resets the peak at its start (for its own report); this test wants the whole call's.
  const reset = gpu.memory.resetPeak;
  gpu.memory.resetPeak = () => undefined;
  try {
    await work(() => reset.call(gpu.memory));
  } finally {
    gpu.memory.resetPeak = reset;
  }
  return gpu.memory.peakBytes;
}

function expectClose(estimate: number, real: number, what: string): void {
  const line = `${what}: estimate ${(estimate / 2 ** 20).toFixed(3)} MiB, real ${(real / 2 ** 20).toFixed(3)} MiB (${((estimate / real - 1) * 100).toFixed(1)}%)`;
  console.log(line);
  expect(estimate, line).toBeGreaterThanOrEqual(real);
  expect(estimate, line).toBeLessThanOrEqual(real * (1 + MAX_OVER));
}

const stage = (estimate: MemoryEstimate, name: keyof MemoryEstimate['stages']) => estimate.stages[name] + RUNTIME_OVERHEAD_BYTES;

describe('the memory estimate against real peaks on the tiny models', () => {
  it.each([
    [32, 48, 16],
    [96, 64, 64],
  ])('txt2img %ix%i with %i text tokens: encoders, transformer and VAE stages', async (width, height, textTokens) => {
    const estimate = estimateImage(imageModels, { width, height }, textTokens, gpu.limits);
    const request = { prompt: `a red fox ${width}`, width, height, steps: 2, seed: 3, maxSequenceLength: textTokens };
    const cache = new ConditioningCache();
    const encoders = await peakOf(() => encodePrompts(gpu, imageFiles, tokenizers, [request.prompt], textTokens, cache));
    expectClose(stage(estimate, 'encoders'), encoders, `encoders, ${textTokens} tokens`);
    // Conditioning cached: the run is the transformer stage, then the VAE's. The VAE reads its
    // file into CPU memory before it allocates anything, so its first progress event separates them.
    let transformer = 0;
    const vae = await peakOf((resetPeak) =>
      txt2img(gpu, imageFiles, tokenizers, cache, request, (event) => {
        if (event.stage === 'vae' && transformer === 0) {
          transformer = gpu.memory.peakBytes;
          resetPeak();
        }
      }),
    );
    expectClose(stage(estimate, 'transformer'), transformer, `transformer stage ${width}x${height}`);
    expectClose(stage(estimate, 'vae'), vae, `VAE stage ${width}x${height}`);
  });

  it.each<[string, Partial<StoryRequest>]>([
    ['maintain, 2 frames in one batch', { mode: 'maintain', frames: [shot('reads a map.'), shot('rides a bicycle.')] }],
    ['scenes, a source frame and a larger frame, batches of 1', { mode: 'scenes', framesPerBatch: 1, frames: [shot('reads a map.'), { ...shot('swims.'), environment: 'In a lake,', newScene: true }, { ...shot('dives.'), environment: 'In a lake,', width: 48 }] }],
  ])('a story (%s): the whole run, the VAE decoding beside the transformer', async (_, variant) => {
    const request: StoryRequest = {
      mode: 'maintain', character: 'a knight with a red cloak', identity: shot('stands still.'), frames: [], width: 32, height: 32, seed: 5,
      maxSequenceLength: 48, schedule: SCHNELL_4, previewEvery: 1, ...variant,
    };
    const cache = new ConditioningCache();
    const estimate = estimateStory(models, {
      identity: { width: 32, height: 32 },
      frames: request.frames.map((frame, k) => ({ width: frame.width ?? 32, height: frame.height ?? 32, opensScene: request.mode === 'scenes' && (frame.newScene ?? frame.environment !== (k ? request.frames[k - 1] : request.identity).environment) })),
      mode: request.mode, schedule: 'schnell-4', textTokens: 48, framesPerBatch: request.framesPerBatch ?? request.frames.length,
    }, gpu.limits);
    // Warm the prompt cache so the peak is the transformer stage's (the encoders are measured above).
    await generateStory(gpu, files, tokenizers, cache, { ...request, pictures: { identity: true, frames: [] } });
    const real = await peakOf(() => generateStory(gpu, files, tokenizers, cache, request));
    expectClose(stage(estimate, 'transformer'), real, `story ${request.mode}, ${request.frames.length} frames`);
  });
});

function shot(action: string) {
  return { environment: 'In a misty forest,', action };
}
