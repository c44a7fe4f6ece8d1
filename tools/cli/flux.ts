// `npm run cli -- flux-forward|flux-sample --weights W --inputs IN.safetensors --out OUT.safetensors`
// Tensor names follow BFL's Flux.forward arguments, so any outside implementation can be compared
// with ours on the same inputs (README: "Comparing with other implementations").

import { invalidInput } from '../../src/engine/errors';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { FluxSample, FluxScratch, tokensOf, type FluxShape } from '../../src/engine/models/flux/activations';
import type { FluxConfig } from '../../src/engine/models/flux/config';
import { loadFluxModel } from '../../src/engine/models/flux/load';
import { sampleFlux } from '../../src/engine/models/flux/sampler';
import { FluxTransformer } from '../../src/engine/models/flux/transformer';
import type { LinearVariant } from '../../src/engine/ops/linear-config';
import { fluxPositionIds } from '../../src/engine/ops/rope-table';
import { fluxSchedule } from '../../src/engine/sampling/schedule';
import { FluxForwardArgumentsSchema, FluxSampleArgumentsSchema, COMMAND_ENTRIES, type FluxForwardArguments, type FluxSampleArguments } from '../../src/schema/cli';
import { MAX_STEPS } from '../../src/schema/request';
import { nodeFileSource } from '../node-file-source';
import { command, type CliLog } from './command';
import { memoryPlan } from './memory-plan';
import { fluxConfigOf } from './model-headers';
import type { OutputFiles } from './outputs';
import { ANY, encodeOutputs, InputTensors, type Tensor } from './tensors';

/** One sample's inputs, read and checked before any GPU work. */
interface FluxInputs {
  weights: string;
  out: string;
  variant?: LinearVariant;
  config: FluxConfig;
  shape: FluxShape;
  /** img (forward) or noise (sample) [L, 64] */
  latents: Float32Array;
  /** [Lt, contextDim] */
  text: Float32Array;
  /** [vecDim] */
  pooled: Float32Array;
  /** txt_ids then img_ids [tokens, 3] */
  ids: Float64Array;
  guidance: number;
}

async function readFluxInputs<Extra>(
  args: FluxForwardArguments,
  latentName: 'img' | 'noise',
  extra: (inputs: InputTensors, config: FluxConfig, imageTokens: number) => Promise<Extra>,
): Promise<FluxInputs & Extra> {
  const config = await fluxConfigOf(args.weights);
  const inputs = await InputTensors.open(args.inputs);
  try {
    const latents = await inputs.get(latentName, [1, ANY, config.inChannels]);
    const txt = await inputs.get('txt', [1, ANY, config.contextDim]);
    const y = await inputs.get('y', [1, config.vecDim]);
    const shape = gridShape(args.grid, latentName, txt.shape[1], latents.shape[1]);
    return {
      weights: args.weights, out: args.out, variant: args.variant, config, shape,
      latents: latents.values, text: txt.values, pooled: y.values,
      ids: await positionIds(inputs, shape),
      guidance: await inputs.scalar('guidance', 3.5),
      ...(await extra(inputs, config, latents.shape[1])),
    };
  } finally {
    await inputs.close();
  }
}

function gridShape(grid: [number, number] | undefined, latentName: string, textTokens: number, imageTokens: number): FluxShape {
  if (!grid) return { textTokens, rows: 1, cols: imageTokens };
  const [rows, cols] = grid;
  if (rows * cols !== imageTokens) {
    throw invalidInput(`--grid ${rows},${cols} gives ${rows * cols} image tokens, but the input "${latentName}" has ${imageTokens}.`, 'Give --grid ROWS,COLS whose product is the number of image tokens.');
  }
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

/** The model on the GPU with one sample holding the inputs. */
async function load(gpu: GpuRuntime, inputs: FluxInputs, log: CliLog) {
  let shown = -1;
  const loadStarted = performance.now();
  const { weights } = await loadFluxModel(gpu, await nodeFileSource(inputs.weights), ({ loadedBytes, totalBytes }) => {
    const percent = Math.floor((10 * loadedBytes) / totalBytes) * 10;
    if (percent !== shown) log.out(`loading weights: ${(shown = percent)}%`);
  });
  log.out(`weights loaded in ${(performance.now() - loadStarted).toFixed(0)} ms`);
  const { config, shape } = inputs;
  const transformer = await FluxTransformer.create(gpu, weights, { variant: inputs.variant });
  const scratch = await FluxScratch.create(gpu, config, tokensOf(shape));
  const sample = await FluxSample.create(gpu, config, 'cli', shape, inputs.text, inputs.pooled, inputs.ids);
  gpu.memory.upload(sample.currentLatents.buffer, inputs.latents);
  log.out(memoryPlan(gpu.memory).join('\n'));
  return { transformer, sample, scratch };
}

const imageTokensOf = ({ shape }: FluxInputs) => shape.rows * shape.cols;

export const fluxForwardCommand = command({
  usage: 'flux-forward --weights W --inputs IN.safetensors --out OUT.safetensors [--grid R,C] [--variant V] [--software]',
  entries: COMMAND_ENTRIES['flux-forward'],
  schema: FluxForwardArgumentsSchema,
  paths: (args) => ({ files: { '--weights': args.weights, '--inputs': args.inputs }, outputs: { '--out': args.out } }),
  prepare: (args) => readFluxInputs(args, 'img', async (inputs) => ({ timestep: await inputs.scalar('timesteps') })),
  async run(gpu, inputs, outputs: OutputFiles, log) {
    const { transformer, sample, scratch } = await load(gpu, inputs, log);
    const started = performance.now();
    await transformer.forward(sample, scratch, inputs.timestep, inputs.guidance);
    const pred = await gpu.memory.readF32(sample.velocity.buffer);
    log.out(`forward: ${(performance.now() - started).toFixed(0)} ms`);
    await outputs.write(inputs.out, encodeOutputs({ pred: { shape: [1, imageTokensOf(inputs), inputs.config.inChannels], values: pred } }));
  },
});

/** The sampling schedule [steps + 1]: the inputs' `schedule` tensor, or --steps and --shift / --no-shift. */
async function scheduleOf(inputs: InputTensors, args: FluxSampleArguments, config: FluxConfig, imageTokens: number): Promise<Float64Array> {
  const given = await inputs.optional('schedule', [ANY]);
  if (!given) return fluxSchedule(args.steps ?? 4, imageTokens, args.shift ?? (args.noShift ? false : config.guidance));
  if (args.steps !== undefined || args.shift || args.noShift) {
    throw invalidInput('--steps, --shift and --no-shift make a schedule, but the inputs hold a "schedule" tensor too.', 'Leave out those options, or remove the schedule tensor from the inputs.');
  }
  const values = given.values;
  const problem =
    values.length < 2 ? `holds ${values.length} value; N steps need N + 1 values, from 1 (noise) down to 0`
    : values.length > MAX_STEPS + 1 ? `holds ${values.length} values; at most ${MAX_STEPS} steps (${MAX_STEPS + 1} values) are allowed`
    : values.some((t, i) => t < 0 || t > 1 || (i > 0 && t > values[i - 1])) ? 'must run from noise to image: values in [0, 1] that never increase'
    : undefined;
  if (problem) throw invalidInput(`The input tensor "schedule" ${problem}.`, 'Write a schedule such as [1, 0.75, 0.5, 0.25, 0] into the inputs, or leave it out and give --steps.');
  return Float64Array.from(values);
}

export const fluxSampleCommand = command({
  usage: 'flux-sample --weights W --inputs IN.safetensors --out OUT.safetensors [--grid R,C] [--steps N] [--shift|--no-shift] [--variant V] [--software]',
  entries: COMMAND_ENTRIES['flux-sample'],
  schema: FluxSampleArgumentsSchema,
  paths: fluxForwardCommand.paths,
  prepare: (args) => readFluxInputs(args, 'noise', async (inputs, config, imageTokens) => ({ schedule: await scheduleOf(inputs, args, config, imageTokens) })),
  async run(gpu, inputs, outputs: OutputFiles, log) {
    const { transformer, sample, scratch } = await load(gpu, inputs, log);
    const { schedule, config } = inputs;
    const steps = schedule.length - 1;
    const latentSize = imageTokensOf(inputs) * config.inChannels;
    const latents = new Float32Array((steps + 1) * latentSize);
    latents.set(inputs.latents);
    const started = performance.now();
    await sampleFlux(gpu, transformer, sample, scratch, {
      schedule,
      guidance: inputs.guidance,
      keepLatents: true,
      onStep: (step, values) => {
        latents.set(values!, step * latentSize);
        log.out(`step ${step}/${steps}: ${((performance.now() - started) / step).toFixed(0)} ms/step`);
      },
    });
    const shape = [1, imageTokensOf(inputs), config.inChannels];
    const final: Tensor = { shape, values: latents.slice(steps * latentSize) };
    await outputs.write(inputs.out, encodeOutputs({
      timesteps: { shape: [steps + 1], values: Float32Array.from(schedule) },
      latents: { shape: [steps + 1, ...shape], values: latents },
      final,
    }));
  },
});
