import { describe, expect, it } from 'vitest';
import { FluxSample, FluxScratch, tokensOf, type FluxShape } from '../../src/engine/models/flux/activations';
import { FluxTransformer } from '../../src/engine/models/flux/transformer';
import { loadFluxWeights } from '../../src/engine/models/flux/weights';
import { relativeError } from '../../src/engine/reference/compare';
import { fluxForwardReference, sampleReference } from '../../src/engine/reference/flux';
import { sampleFlux } from '../../src/engine/models/flux/sampler';
import { fluxSchedule } from '../../src/engine/sampling/schedule';
import { fluxPositionIds } from '../../src/engine/ops/rope-table';
import { tinyFluxGguf, tinyFluxSafetensors, TINY_FLUX } from '../../tools/tiny-models/flux';
import { openInMemory, referenceWeights } from '../helpers/flux';
import { freshSeed, randomArray } from '../helpers/random';
import { readF32, testGpu } from './harness';

const SHAPE: FluxShape = { textTokens: 7, rows: 3, cols: 5 };

describe('FLUX transformer forward (tiny model)', () => {
  it('matches the float64 reference on F32 weights', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('flux forward f32');
    const { file, plan } = await openInMemory('tiny.gguf', tinyFluxGguf({ weights: 'F32', vectors: 'F32' }));
    const weights = await loadFluxWeights(gpu, file, plan);
    const transformer = await FluxTransformer.create(gpu, weights);
    const scratch = await FluxScratch.create(gpu, TINY_FLUX, tokensOf(SHAPE));
    const img = randomArray(seed, SHAPE.rows * SHAPE.cols * 64);
    const txt = randomArray(seed, SHAPE.textTokens * TINY_FLUX.contextDim);
    const y = randomArray(seed, TINY_FLUX.vecDim);
    const sample = await FluxSample.create(gpu, TINY_FLUX, 'test', SHAPE, txt, y);
    gpu.memory.upload(sample.currentLatents.buffer, img);
    await transformer.forward(sample, scratch, 0.63, 3.5);
    const velocity = await readF32(gpu, sample.velocity.buffer);

    const ids = fluxPositionIds(SHAPE.textTokens, SHAPE.rows, SHAPE.cols);
    const expected = fluxForwardReference(TINY_FLUX, await referenceWeights(file, plan), {
      img, imgIds: ids.subarray(3 * SHAPE.textTokens), txt, txtIds: ids.subarray(0, 3 * SHAPE.textTokens), y, timestep: 0.63, guidance: 3.5,
    });
    expect(relativeError(velocity, expected)).toBeLessThan(1e-4);
  });
});

async function prepare(parts: Uint8Array[], name = 'tiny.gguf') {
  const gpu = await testGpu();
  const { file, plan } = await openInMemory(name, parts);
  const weights = await loadFluxWeights(gpu, file, plan);
  return { gpu, file, plan, weights, transformer: await FluxTransformer.create(gpu, weights) };
}

async function velocityOf(setup: Awaited<ReturnType<typeof prepare>>, inputs: { img: Float32Array; txt: Float32Array; y: Float32Array }, shape = SHAPE): Promise<Float32Array> {
  const { gpu, transformer, plan } = setup;
  const scratch = await FluxScratch.create(gpu, plan.config, tokensOf(shape));
  const sample = await FluxSample.create(gpu, plan.config, 'test', shape, inputs.txt, inputs.y);
  gpu.memory.upload(sample.currentLatents.buffer, inputs.img);
  await transformer.forward(sample, scratch, 0.41, 3.5);
  const velocity = await readF32(gpu, sample.velocity.buffer);
  sample.release();
  scratch.release();
  return velocity;
}

function randomInputs(label: string, shape = SHAPE) {
  const seed = freshSeed(label);
  return { img: randomArray(seed, shape.rows * shape.cols * 64), txt: randomArray(seed, shape.textTokens * TINY_FLUX.contextDim), y: randomArray(seed, TINY_FLUX.vecDim) };
}

describe('FLUX weights from every file layout', () => {
  it.each([
    ['F16', { weights: 'F16', vectors: 'F32' }],
    ['Q8_0 with F16 vectors (city96 day-one layout)', { weights: 'Q8_0', vectors: 'F16' }],
    ['Q4_0', { weights: 'Q4_0', vectors: 'F32' }],
  ] as const)('%s matches the float64 reference on the same dequantized weights', async (_, variant) => {
    const setup = await prepare(tinyFluxGguf(variant));
    const inputs = randomInputs(`flux ${variant.weights}`);
    const velocity = await velocityOf(setup, inputs);
    const ids = fluxPositionIds(SHAPE.textTokens, SHAPE.rows, SHAPE.cols);
    const expected = fluxForwardReference(setup.plan.config, await referenceWeights(setup.file, setup.plan), {
      ...inputs, imgIds: ids.subarray(3 * SHAPE.textTokens), txtIds: ids.subarray(0, 3 * SHAPE.textTokens), timestep: 0.41, guidance: 3.5,
    });
    expect(relativeError(velocity, expected)).toBeLessThan(1e-4);
    setup.weights.release();
  });

  it('gives identical outputs from GGUF with BFL names and safetensors with diffusers names', async () => {
    const inputs = randomInputs('flux gguf vs safetensors');
    const gguf = await prepare(tinyFluxGguf({ weights: 'F32', vectors: 'F32' }));
    const fromGguf = await velocityOf(gguf, inputs);
    gguf.weights.release();
    const diffusers = await prepare(tinyFluxSafetensors('F32'), 'tiny.safetensors');
    const fromSafetensors = await velocityOf(diffusers, inputs);
    diffusers.weights.release();
    expect([...fromSafetensors]).toEqual([...fromGguf]);
  });
});

/** Per step, the relative error of a 4-step shifted trajectory's latents against the float64 reference. */
async function trajectoryErrors(setup: Awaited<ReturnType<typeof prepare>>, transformer: FluxTransformer, label: string): Promise<number[]> {
  const { gpu, plan } = setup;
  const inputs = randomInputs(label);
  const schedule = fluxSchedule(4, SHAPE.rows * SHAPE.cols, true);
  const scratch = await FluxScratch.create(gpu, plan.config, tokensOf(SHAPE));
  const sample = await FluxSample.create(gpu, plan.config, label, SHAPE, inputs.txt, inputs.y);
  gpu.memory.upload(sample.currentLatents.buffer, inputs.img);
  const latents: Float32Array[] = [];
  await sampleFlux(gpu, transformer, sample, scratch, { schedule, guidance: 3.5, keepLatents: true, onStep: (_, l) => latents.push(l!) });
  sample.release();
  scratch.release();
  const ids = fluxPositionIds(SHAPE.textTokens, SHAPE.rows, SHAPE.cols);
  const expected = sampleReference(plan.config, await referenceWeights(setup.file, plan), {
    txt: inputs.txt, y: inputs.y, imgIds: ids.subarray(3 * SHAPE.textTokens), txtIds: ids.subarray(0, 3 * SHAPE.textTokens), guidance: 3.5,
  }, inputs.img, schedule);
  expect(latents).toHaveLength(4);
  return latents.map((latent, i) => relativeError(latent, expected[i + 1]));
}

describe('FLUX sampling (tiny model)', () => {
  it('follows the float64 reference through a 4-step shifted trajectory, step by step', async () => {
    const setup = await prepare(tinyFluxGguf({ weights: 'F32', vectors: 'F32' }));
    (await trajectoryErrors(setup, setup.transformer, 'flux sampling')).forEach((error) => expect(error).toBeLessThan(1e-4));
    setup.weights.release();
  });
});

describe("FLUX with precision 'fast' (int8 activations in the blocks' linear layers)", () => {
  // Rounding each 32-value block of activations to 1/127 of its largest value costs about 0.4%
  // per layer (test/gpu/linear.test.ts); through the tiny model's 6 blocks the velocity's error
  // against the float64 reference was 1.0-1.2e-2 (exact: 5e-7).
  const FORWARD_BOUND = 3e-2;
  // Each Euler step moves the latents by a fraction of the velocity, so the trajectory's error
  // stays smaller: 3e-3 after the first step to 6e-3 after the fourth.
  const SAMPLE_BOUND = 1.5e-2;

  it.each(['Q4_0', 'Q8_0'] as const)('%s forward matches the float64 reference within the int8 tolerance, and differs from the exact path', async (type) => {
    const setup = await prepare(tinyFluxGguf({ weights: type, vectors: 'F32' }));
    const liveBytes = setup.gpu.memory.liveBytes;
    const fast = await FluxTransformer.create(setup.gpu, setup.weights, { precision: 'fast' });
    expect(fast.precision).toBe('fast');
    const inputs = randomInputs(`flux fast ${type}`);
    const exactVelocity = await velocityOf(setup, inputs);
    const fastVelocity = await velocityOf({ ...setup, transformer: fast }, inputs);
    // Its int8 scratch memory goes with it.
    fast.release();
    expect(setup.gpu.memory.liveBytes).toBe(liveBytes);
    const ids = fluxPositionIds(SHAPE.textTokens, SHAPE.rows, SHAPE.cols);
    const expected = fluxForwardReference(setup.plan.config, await referenceWeights(setup.file, setup.plan), {
      ...inputs, imgIds: ids.subarray(3 * SHAPE.textTokens), txtIds: ids.subarray(0, 3 * SHAPE.textTokens), timestep: 0.41, guidance: 3.5,
    });
    const [exactError, fastError] = [relativeError(exactVelocity, expected), relativeError(fastVelocity, expected)];
    console.log(`${type} velocity against float64: exact ${exactError.toExponential(2)}, fast ${fastError.toExponential(2)}`);
    expect(exactError).toBeLessThan(1e-4);
    expect(fastError).toBeLessThan(FORWARD_BOUND);
    // The int8 kernels really ran: quantization leaves a trace far above f32 rounding.
    expect(fastError).toBeGreaterThan(10 * exactError);
    setup.weights.release();
  });

  it('follows the float64 reference through a 4-step trajectory', async () => {
    const setup = await prepare(tinyFluxGguf({ weights: 'Q4_0', vectors: 'F32' }));
    const fast = await FluxTransformer.create(setup.gpu, setup.weights, { precision: 'fast' });
    const errors = await trajectoryErrors(setup, fast, 'flux fast sampling');
    console.log(`fast 4-step latents against float64: ${errors.map((e) => e.toExponential(2)).join(', ')}`);
    errors.forEach((error) => expect(error).toBeLessThan(SAMPLE_BOUND));
    setup.weights.release();
  });
});
