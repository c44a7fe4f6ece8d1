// `npm run cli -- story STORY.json …` in two forms (README "The story JSON"):
// - prompts:  --transformer F --t5 F --clip F --vae F --out DIR
//             writes identity.png, frame-K.png, frame-K-mask.png and story.json (prompts, matched
//             points, events, timings);
// - tensors:  --weights W --inputs IN.safetensors --out OUT.safetensors
//             the transformer-level method on given conditioning and noise, for comparisons with
//             another implementation: latents, masks, matches, and OUT.events.json.
// The JSON is checked by its schema (src/schema/cli-story.ts, src/schema/tensor-story.ts) and every
// tensor it names is read and checked before any GPU work.

import path from 'node:path';
import { runStory } from '../../src/engine/characonsist/runner';
import { PRESETS, type CharaConsistSchedule } from '../../src/engine/characonsist/schedule';
import type { StoryFrame, StoryImage, TransformerStory } from '../../src/engine/characonsist/story';
import { EngineError, invalidInput } from '../../src/engine/errors';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import type { FluxConfig } from '../../src/engine/models/flux/config';
import { loadFluxModel } from '../../src/engine/models/flux/load';
import { FluxTransformer } from '../../src/engine/models/flux/transformer';
import { ConditioningCache } from '../../src/engine/pipeline/conditioning';
import type { Tokenizers } from '../../src/engine/pipeline/models';
import { generateStory, type StoryRequest } from '../../src/engine/pipeline/story';
import { COMMAND_ENTRIES, StoryArgumentsSchema, type StoryArguments } from '../../src/schema/cli';
import { CliStorySchema, type ScheduleChoice } from '../../src/schema/cli-story';
import { TensorStorySchema, type TensorFrame, type TensorIdentity } from '../../src/schema/tensor-story';
import { nodeFileSource } from '../node-file-source';
import { nodeFileRef } from '../node-models';
import { command, type CliLog } from './command';
import { readJsonFile } from './json-file';
import { checkModelFiles, fluxConfigOf } from './model-headers';
import type { OutputFiles } from './outputs';
import { encodePng } from '../../src/export/png';
import { ANY, encodeOutputs, InputTensors, type OutputTensor, type Tensor } from './tensors';
import { tokenizersFrom } from './tokenizer-files';
import { modelPaths } from './txt2img';

/** A preset's schedule, or the JSON's explicit one (0-based step indices, as the official code). */
export function scheduleOf(choice: ScheduleChoice): CharaConsistSchedule {
  if (typeof choice === 'string') {
    const preset = PRESETS.find((candidate) => candidate.name === choice);
    if (!preset) throw new EngineError('internal', `The schedule preset "${choice}" has no engine schedule.`, 'This is a bug in the app: please report it.');
    return preset;
  }
  const [start, decay, end] = choice.interp;
  return {
    name: 'custom', experimental: true, steps: choice.steps, maskStep: choice.mask_step, attention: [choice.attn[0], choice.attn[1]],
    merge: { start, decay, end, weight: choice.interp_weight },
    similarityThreshold: choice.sim_thr, shift: choice.shift, guidance: choice.guidance,
  };
}

/** The tensor form writes its events beside OUT.safetensors. */
const eventsFileOf = (out: string) => out.replace(/\.safetensors$/, '') + '.events.json';

type Prepared = { form: 'prompts'; out: string; request: StoryRequest; files: ModelPaths; tokenizers: Tokenizers } | { form: 'tensors'; out: string; weights: string; story: TransformerStory; config: FluxConfig };

type ModelPaths = Record<'transformer' | 't5' | 'clip' | 'vae', string>;

export const storyCommand = command({
  usage:
    'story STORY.json --transformer F --t5 F --clip F --vae F --out DIR        (prompts -> pictures)\n' +
    'story STORY.json --weights W --inputs IN.safetensors --out OUT.safetensors  (tensors -> tensors)   [--software]',
  entries: COMMAND_ENTRIES.story,
  schema: StoryArgumentsSchema,
  paths: (args) =>
    args.weights
      ? { files: { 'STORY.json': args.story, '--weights': args.weights, '--inputs': args.inputs }, outputs: { '--out': args.out, 'the events file of --out': eventsFileOf(args.out) } }
      : { files: { 'STORY.json': args.story, ...modelPaths(args as ModelPaths) }, outputFolders: { '--out': args.out } },
  prepare: (args) => (args.weights ? prepareTensors(args) : preparePrompts(args)),
  run: (gpu, prepared, outputs, log) => (prepared.form === 'prompts' ? runPrompts(gpu, prepared, outputs, log) : runTensors(gpu, prepared, outputs, log)),
});

// ---------------------------------------------------------------------------------------------
// Prompts -> pictures

async function preparePrompts(args: StoryArguments): Promise<Prepared> {
  const story = await readJsonFile(args.story, CliStorySchema, 'README "The story JSON"');
  const files = args as StoryArguments & ModelPaths;
  await checkModelFiles(files);
  return { form: 'prompts', out: args.out, request: { ...story, schedule: scheduleOf(story.schedule) }, files, tokenizers: await tokenizersFrom() };
}

async function runPrompts(gpu: GpuRuntime, prepared: Extract<Prepared, { form: 'prompts' }>, outputs: OutputFiles, log: CliLog): Promise<void> {
  const { request, out } = prepared;
  const files = { transformer: nodeFileRef(prepared.files.transformer), t5: nodeFileRef(prepared.files.t5), clip: nodeFileRef(prepared.files.clip), vae: nodeFileRef(prepared.files.vae) };
  let shown = '';
  const outcome = await generateStory(gpu, files, prepared.tokenizers, new ConditioningCache(), request, (update) => {
    if (update.kind !== 'progress') return;
    const line = `${update.stage}: ${Math.floor((10 * update.done) / Math.max(1, update.total)) * 10}%`;
    if (line !== shown) log.out((shown = line));
  });
  // Every picture is asked for (the default), so the identity's is there.
  const identity = outcome.identity!;
  outputs.folder(out);
  const write = (name: string, rgba: Uint8Array, width: number, height: number) => outputs.write(path.join(out, name), [encodePng(rgba, width, height)]);
  await write('identity.png', identity.rgba, identity.width, identity.height);
  for (const [k, frame] of outcome.frames.entries()) {
    await write(`frame-${k + 1}.png`, frame.rgba, frame.width, frame.height);
    await write(`frame-${k + 1}-mask.png`, maskImage(frame.maskPixels), frame.width, frame.height);
  }
  const summary = {
    schedule: request.schedule,
    identity: { prompt: identity.prompt },
    frames: outcome.frames.map((frame) => ({ prompt: frame.prompt, flags: frame.flags, points: frame.points })),
    events: outcome.events,
    forwardPasses: outcome.forwardPasses,
    officialForwardPasses: outcome.officialForwardPasses,
    timingsMs: outcome.timings,
    peakGpuBytes: outcome.peakBytes,
  };
  await outputs.write(path.join(out, 'story.json'), [new TextEncoder().encode(JSON.stringify(summary, null, 2))]);
  log.out(`${outcome.frames.length + 1} images; ${outcome.forwardPasses} transformer passes; events: ${outcome.events.length}`);
}

/** A 0/1 mask as a white-on-black RGBA image. */
function maskImage(mask: Uint8Array): Uint8Array {
  const rgba = new Uint8Array(4 * mask.length);
  mask.forEach((value, i) => rgba.set([255 * value, 255 * value, 255 * value, 255], 4 * i));
  return rgba;
}

// ---------------------------------------------------------------------------------------------
// Tensors -> tensors

async function prepareTensors(args: StoryArguments): Promise<Prepared> {
  const json = await readJsonFile(args.story, TensorStorySchema, 'README "The story JSON" (tensor form)');
  const weights = args.weights!;
  const config = await fluxConfigOf(weights);
  const inputs = await InputTensors.open(args.inputs!);
  try {
    const read = storyImageReader(inputs, config, args.story);
    const identity = await read('identity', json.identity);
    const frames: StoryFrame[] = [];
    for (const [k, frame] of json.frames.entries()) frames.push({ ...(await read(`frames[${k}]`, frame, identity)), updateBg: frame.update_bg ?? false });
    const story: TransformerStory = { identity, frames, shareBg: json.share_bg, useInterpolate: json.use_interpolate, schedule: scheduleOf(json.schedule) };
    return { form: 'tensors', out: args.out, weights, story, config };
  } finally {
    await inputs.close();
  }
}

/** Reads the tensors one image of the JSON names, checked against the model and the JSON's counts. */
function storyImageReader(inputs: InputTensors, config: FluxConfig, storyFile: string) {
  return async (where: string, spec: TensorIdentity | TensorFrame, identity?: StoryImage): Promise<StoryImage> => {
    const rows = spec.rows ?? identity!.rows;
    const cols = spec.cols ?? identity!.cols;
    const text = await inputs.get(spec.txt, [1, ANY, config.contextDim]);
    const textTokens = text.shape[1];
    if (spec.real_len > textTokens) {
      throw invalidInput(`${storyFile}: ${where}.real_len is ${spec.real_len}, but "${spec.txt}" holds ${textTokens} text tokens.`, 'Give token counts within the text embeddings (real_len without EOS).');
    }
    if (!spec.noise && identity && rows * cols !== identity.rows * identity.cols) {
      throw invalidInput(`${storyFile}: ${where} has a ${rows}x${cols} token grid but no noise of its own, and the identity's noise has ${identity.rows * identity.cols} tokens.`, `Name a noise tensor [1, ${rows * cols}, ${config.inChannels}] for this frame.`);
    }
    return {
      text: text.values,
      textTokens,
      pooled: spec.vec ? (await inputs.get(spec.vec, [1, config.vecDim])).values : identity!.pooled,
      noise: spec.noise ? (await inputs.get(spec.noise, [1, rows * cols, config.inChannels])).values : identity!.noise,
      bgLen: spec.bg_len,
      realLen: spec.real_len,
      rows,
      cols,
    };
  };
}

async function runTensors(gpu: GpuRuntime, prepared: Extract<Prepared, { form: 'tensors' }>, outputs: OutputFiles, log: CliLog): Promise<void> {
  const { story, config, out } = prepared;
  const { weights } = await loadFluxModel(gpu, await nodeFileSource(prepared.weights));
  let shownPass = -1;
  const result = await runStory(gpu, await FluxTransformer.create(gpu, weights), story, {
    onProgress: ({ passIndex, passes }) => passIndex !== shownPass && log.out(`pass ${(shownPass = passIndex) + 1}/${passes}`),
  });
  // Every picture is asked for (the default), so the identity's is there.
  const identityResult = result.identity!;
  const latents = (values: Float32Array, n: number): Tensor => ({ shape: [1, n, config.inChannels], values });
  const u8 = (mask: Uint8Array, rows: number, cols: number) => ({ shape: [rows, cols], u8: mask });
  const indices = (values: Uint32Array) => ({ shape: [values.length], i32: Int32Array.from(values) });
  const { identity } = story;
  const tensors: Record<string, OutputTensor> = {
    'id.latents': latents(identityResult.latents, identity.rows * identity.cols),
    'id.mask': u8(identityResult.mask, identity.rows, identity.cols),
  };
  result.frames.forEach((frame, k) => {
    const { rows, cols } = story.frames[k];
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
  await outputs.write(out, encodeOutputs(tensors));
  const events = { events: result.events, forwardPasses: result.forwardPasses, passMs: result.passMs, peakGpuBytes: result.peakBytes };
  await outputs.write(eventsFileOf(out), [new TextEncoder().encode(JSON.stringify(events, null, 2))]);
}
