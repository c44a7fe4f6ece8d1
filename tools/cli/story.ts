// `npm run cli -- story STORY.json …` in two forms (README "The story JSON"):
// - prompts:  --transformer F --t5 F --clip F --vae F --out DIR
//             writes identity.png, frame-K.png, frame-K-mask.png and story.json (prompts, matched
//             points, events, timings);
// - tensors:  --weights W --inputs IN.safetensors --out OUT.safetensors
//             the transformer-level method on given conditioning and noise, for comparisons with
//             another implementation: latents, masks, matches, and OUT.events.json.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runStory } from '../../src/engine/characonsist/runner';
import { DEV_50, PRESETS, type CharaConsistSchedule } from '../../src/engine/characonsist/schedule';
import type { StoryFrame, StoryImage, TransformerStory } from '../../src/engine/characonsist/story';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { loadFluxModel } from '../../src/engine/models/flux/load';
import { FluxTransformer } from '../../src/engine/models/flux/transformer';
import { ConditioningCache } from '../../src/engine/pipeline/conditioning';
import { generateStory, type StoryRequest } from '../../src/engine/pipeline/story';
import { nodeFileSource } from '../node-file-source';
import { loadTokenizers, nodeFileRef } from '../node-models';
import { encodePng } from './png';
import { InputTensors, writeOutputs, type OutputTensor, type Tensor } from './tensors';

export interface StoryCliOptions {
  story: string;
  out: string;
  weights?: string;
  inputs?: string;
  transformer?: string;
  t5?: string;
  clip?: string;
  vae?: string;
}

/** The schedule of a story JSON: a preset name or explicit 0-based step indices. */
interface ScheduleJson {
  steps: number;
  mask_step: number;
  attn: [number, number];
  interp: [number, number, number];
  interp_weight: number;
  sim_thr: number;
  shift: boolean;
  guidance: number;
}

export function parseSchedule(value: string | ScheduleJson | undefined): CharaConsistSchedule {
  if (value === undefined) return DEV_50;
  if (typeof value === 'string') {
    const preset = PRESETS.find((candidate) => candidate.name === value);
    if (!preset) throw new Error(`unknown schedule "${value}"; presets: ${PRESETS.map((p) => p.name).join(', ')}`);
    return preset;
  }
  return {
    name: 'custom', experimental: true, steps: value.steps, maskStep: value.mask_step, attention: value.attn,
    merge: { start: value.interp[0], decay: value.interp[1], end: value.interp[2], weight: value.interp_weight },
    similarityThreshold: value.sim_thr, shift: value.shift, guidance: value.guidance,
  };
}

export async function storyCommand(gpu: GpuRuntime, options: StoryCliOptions): Promise<void> {
  const json = JSON.parse(readFileSync(options.story, 'utf8'));
  if (options.weights && options.inputs) await tensorStory(gpu, options.weights, options.inputs, options.out, json);
  else await promptStory(gpu, options, json);
}

// ---------------------------------------------------------------------------------------------
// Prompts -> pictures

async function promptStory(gpu: GpuRuntime, options: StoryCliOptions, json: StoryRequest & { schedule?: string | ScheduleJson }): Promise<void> {
  const need = (name: 'transformer' | 't5' | 'clip' | 'vae') => {
    const file = options[name];
    if (!file) throw new Error(`story: --${name} is required (or --weights and --inputs for a tensor-level story)`);
    return nodeFileRef(file);
  };
  const files = { transformer: need('transformer'), t5: need('t5'), clip: need('clip'), vae: need('vae') };
  const request: StoryRequest = { ...json, schedule: parseSchedule(json.schedule) };
  let shown = '';
  const outcome = await generateStory(gpu, files, await loadTokenizers(), new ConditioningCache(), request, ({ stage, done, total }) => {
    const line = `${stage}: ${Math.floor((10 * done) / Math.max(1, total)) * 10}%`;
    if (line !== shown) console.log((shown = line));
  });
  mkdirSync(options.out, { recursive: true });
  const write = (name: string, rgba: Uint8Array, width: number, height: number) => writeFileSync(path.join(options.out, name), encodePng(rgba, width, height));
  write('identity.png', outcome.identity.rgba, outcome.identity.width, outcome.identity.height);
  outcome.frames.forEach((frame, k) => {
    write(`frame-${k + 1}.png`, frame.rgba, frame.width, frame.height);
    write(`frame-${k + 1}-mask.png`, maskImage(frame.maskPixels), frame.width, frame.height);
  });
  const summary = {
    schedule: request.schedule,
    identity: { prompt: outcome.identity.prompt },
    frames: outcome.frames.map((frame) => ({ prompt: frame.prompt, flags: frame.flags, points: frame.points })),
    events: outcome.events,
    forwardPasses: outcome.forwardPasses,
    officialForwardPasses: outcome.officialForwardPasses,
    timingsMs: outcome.timings,
    peakGpuBytes: outcome.peakBytes,
  };
  writeFileSync(path.join(options.out, 'story.json'), JSON.stringify(summary, null, 2));
  console.log(`${outcome.frames.length + 1} images in ${options.out}; ${outcome.forwardPasses} transformer passes; events: ${outcome.events.length}`);
}

/** A 0/1 mask as a white-on-black RGBA image. */
function maskImage(mask: Uint8Array): Uint8Array {
  const rgba = new Uint8Array(4 * mask.length);
  mask.forEach((value, i) => rgba.set([255 * value, 255 * value, 255 * value, 255], 4 * i));
  return rgba;
}

// ---------------------------------------------------------------------------------------------
// Tensors -> tensors

interface ImageJson {
  txt: string;
  vec?: string;
  noise?: string;
  bg_len: number;
  real_len: number;
  rows?: number;
  cols?: number;
  update_bg?: boolean;
}

interface TensorStoryJson {
  schedule?: string | ScheduleJson;
  share_bg: boolean;
  use_interpolate: boolean;
  identity: Required<Omit<ImageJson, 'update_bg'>>;
  frames: ImageJson[];
}

async function tensorStory(gpu: GpuRuntime, weightsPath: string, inputsPath: string, out: string, json: TensorStoryJson): Promise<void> {
  const { plan, weights } = await loadFluxModel(gpu, await nodeFileSource(weightsPath));
  const { config } = plan;
  const inputs = await InputTensors.open(inputsPath);
  const image = async (spec: ImageJson, fallback?: StoryImage): Promise<StoryImage> => {
    const rows = spec.rows ?? fallback!.rows;
    const cols = spec.cols ?? fallback!.cols;
    const text = await inputs.get(spec.txt, [1, -1, config.contextDim]);
    return {
      text: text.values,
      textTokens: text.shape[1],
      pooled: spec.vec ? (await inputs.get(spec.vec, [1, config.vecDim])).values : fallback!.pooled,
      noise: spec.noise ? (await inputs.get(spec.noise, [1, rows * cols, config.inChannels])).values : fallback!.noise,
      bgLen: spec.bg_len,
      realLen: spec.real_len,
      rows,
      cols,
    };
  };
  const identity = await image(json.identity);
  const frames: StoryFrame[] = [];
  for (const frame of json.frames) frames.push({ ...(await image(frame, identity)), updateBg: frame.update_bg ?? false });
  const story: TransformerStory = { identity, frames, shareBg: json.share_bg, useInterpolate: json.use_interpolate, schedule: parseSchedule(json.schedule) };
  const result = await runStory(gpu, await FluxTransformer.create(gpu, weights), story, {
    onProgress: ({ pass, passes, step }) => step === 0 && console.log(`pass ${pass + 1}/${passes}`),
  });
  const latents = (values: Float32Array, n: number): Tensor => ({ shape: [1, n, config.inChannels], values });
  const u8 = (mask: Uint8Array, rows: number, cols: number) => ({ shape: [rows, cols], u8: mask });
  const indices = (values: Uint32Array) => ({ shape: [values.length], i32: Int32Array.from(values) });
  const tensors: Record<string, OutputTensor> = {
    'id.latents': latents(result.identity.latents, identity.rows * identity.cols),
    'id.mask': u8(result.identity.mask, identity.rows, identity.cols),
  };
  result.frames.forEach((frame, k) => {
    const { rows, cols } = frames[k];
    Object.assign(tensors, {
      [`frame${k}.latents`]: latents(frame.latents, rows * cols),
      [`frame${k}.mask`]: u8(frame.mask, rows, cols),
      [`frame${k}.pre.mask`]: u8(frame.preMask, rows, cols),
      [`frame${k}.match_idx`]: indices(frame.matches.bestMatch),
      [`frame${k}.match_sim`]: { shape: [rows * cols], values: frame.matches.bestSimilarity },
      [`frame${k}.valid_frame_idx`]: indices(frame.matches.frameTokens),
      [`frame${k}.valid_id_idx`]: indices(frame.matches.identityTokens),
    });
  });
  await writeOutputs(out, tensors);
  const eventsFile = out.replace(/\.safetensors$/, '') + '.events.json';
  writeFileSync(eventsFile, JSON.stringify({ events: result.events, forwardPasses: result.forwardPasses, passMs: result.passMs, peakGpuBytes: result.peakBytes }, null, 2));
  console.log(`wrote ${eventsFile}`);
}
