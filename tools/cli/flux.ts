// `npm run cli -- flux-forward|flux-sample --weights W --inputs IN.safetensors --out OUT.safetensors`
// Tensor names follow BFL's Flux.forward arguments, so any outside implementation can be compared
// with ours on the same inputs (README: "Comparing with other implementations").

import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { FluxSample, FluxScratch, tokensOf, type FluxShape } from '../../src/engine/models/flux/activations';
import type { FluxConfig } from '../../src/engine/models/flux/config';
import { loadFluxModel } from '../../src/engine/models/flux/load';
import { sampleFlux } from '../../src/engine/models/flux/sampler';
import { FluxTransformer } from '../../src/engine/models/flux/transformer';
import { fluxPositionIds } from '../../src/engine/ops/rope-table';
import { fluxSchedule } from '../../src/engine/sampling/schedule';
import { nodeFileSource } from '../node-file-source';
import { memoryPlan } from './memory-plan';
import { InputTensors, writeOutputs, type Tensor } from './tensors';

export interface FluxCliOptions {
  weights: string;
  inputs: string;
  out: string;
  /** "R,C": the image token grid, when img_ids is not given */
  grid?: string;
  steps?: number;
  shift?: boolean;
  variant?: 'auto' | 'f32' | 'int8' | 'baseline';
}

interface Prepared {
  transformer: FluxTransformer;
  sample: FluxSample;
  scratch: FluxScratch;
  inputs: InputTensors;
  config: FluxConfig;
  imageTokens: number;
}

/** Loads the model and one sample from the inputs: img/noise [1, L, 64], txt, y, optional ids. */
async function prepare(gpu: GpuRuntime, options: FluxCliOptions, latentName: 'img' | 'noise'): Promise<Prepared> {
  let shown = -1;
  const loadStarted = performance.now();
  const { plan, weights } = await loadFluxModel(gpu, await nodeFileSource(options.weights), ({ loadedBytes, totalBytes }) => {
    const percent = Math.floor((10 * loadedBytes) / totalBytes) * 10;
    if (percent !== shown) console.log(`loading weights: ${(shown = percent)}%`);
  });
  console.log(`weights loaded in ${(performance.now() - loadStarted).toFixed(0)} ms`);
  const { config } = plan;
  const inputs = await InputTensors.open(options.inputs);
  const latents = await inputs.get(latentName, [1, -1, config.inChannels]);
  const txt = await inputs.get('txt', [1, -1, config.contextDim]);
  const y = await inputs.get('y', [1, config.vecDim]);
  const imageTokens = latents.shape[1];
  const textTokens = txt.shape[1];
  const shape = gridShape(options.grid, textTokens, imageTokens);
  const ids = await positionIds(inputs, shape);
  const transformer = await FluxTransformer.create(gpu, weights, { variant: options.variant });
  const scratch = await FluxScratch.create(gpu, config, tokensOf(shape));
  const sample = await FluxSample.create(gpu, config, 'cli', shape, txt.values, y.values, ids);
  gpu.memory.upload(sample.currentLatents.buffer, latents.values);
  console.log(memoryPlan(gpu.memory).join('\n'));
  return { transformer, sample, scratch, inputs, config, imageTokens };
}

function gridShape(grid: string | undefined, textTokens: number, imageTokens: number): FluxShape {
  if (!grid) return { textTokens, rows: 1, cols: imageTokens };
  const [rows, cols] = grid.split(',').map(Number);
  if (rows * cols !== imageTokens) throw new Error(`--grid ${grid} has ${rows * cols} tokens, the inputs have ${imageTokens}`);
  return { textTokens, rows, cols };
}

/** txt_ids then img_ids [tokens, 3]; defaults: zeros, and (0, row, col) over the grid. */
async function positionIds(inputs: InputTensors, shape: FluxShape): Promise<Float64Array> {
  const ids = fluxPositionIds(shape.textTokens, shape.rows, shape.cols);
  const txtIds = await inputs.optional('txt_ids', [1, shape.textTokens, 3]);
  const imgIds = await inputs.optional('img_ids', [1, shape.rows * shape.cols, 3]);
  if (txtIds) ids.set(txtIds.values, 0);
  if (imgIds) ids.set(imgIds.values, 3 * shape.textTokens);
  return ids;
}

async function scalar(inputs: InputTensors, name: string, fallback?: number): Promise<number> {
  const tensor = await inputs.optional(name, [1]);
  if (tensor) return tensor.values[0];
  if (fallback === undefined) throw new Error(`input tensor "${name}" [1] is missing`);
  return fallback;
}

export async function fluxForward(gpu: GpuRuntime, options: FluxCliOptions): Promise<void> {
  const { transformer, sample, scratch, inputs, config, imageTokens } = await prepare(gpu, options, 'img');
  const started = performance.now();
  await transformer.forward(sample, scratch, await scalar(inputs, 'timesteps'), await scalar(inputs, 'guidance', 3.5));
  const pred = await gpu.memory.readF32(sample.velocity.buffer);
  console.log(`forward: ${(performance.now() - started).toFixed(0)} ms`);
  await writeOutputs(options.out, { pred: { shape: [1, imageTokens, config.inChannels], values: pred } });
}

export async function fluxSample(gpu: GpuRuntime, options: FluxCliOptions): Promise<void> {
  const { transformer, sample, scratch, inputs, config, imageTokens } = await prepare(gpu, options, 'noise');
  const given = await inputs.optional('schedule', [-1]);
  const schedule = given ? Float64Array.from(given.values) : fluxSchedule(options.steps ?? 4, imageTokens, options.shift ?? config.guidance);
  const steps = schedule.length - 1;
  const latentSize = imageTokens * config.inChannels;
  const latents = new Float32Array((steps + 1) * latentSize);
  latents.set(await gpu.memory.readF32(sample.currentLatents.buffer));
  const started = performance.now();
  await sampleFlux(gpu, transformer, sample, scratch, {
    schedule,
    guidance: await scalar(inputs, 'guidance', 3.5),
    keepLatents: true,
    onStep: (step, values) => {
      latents.set(values!, step * latentSize);
      console.log(`step ${step}/${steps}: ${((performance.now() - started) / step).toFixed(0)} ms/step`);
    },
  });
  const final: Tensor = { shape: [1, imageTokens, config.inChannels], values: latents.slice(steps * latentSize) };
  await writeOutputs(options.out, {
    timesteps: { shape: [steps + 1], values: Float32Array.from(schedule) },
    latents: { shape: [steps + 1, 1, imageTokens, config.inChannels], values: latents },
    final,
  });
}
