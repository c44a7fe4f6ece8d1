// The memory estimate at full FLUX.1 size against peaks measured on a real GPU (README, H100,
// `npm run bench`), the catalog-size shortcut against exact header-based weights, and the
// capability verdicts it drives. (test/gpu/memory-estimate.test.ts holds it against real runs of
// the tiny models, stage by stage.)

import { describe, expect, it } from 'vitest';
import type { CapabilityRequest, GpuReport } from '../../../src/engine-api';
import { EngineError } from '../../../src/engine/errors';
import { blobSource } from '../../../src/engine/formats/byte-source';
import { fluxTensorShapes, type FluxConfig } from '../../../src/engine/models/flux/config';
import { FLUX_VAE_DECODER, vaeTensorShapes } from '../../../src/engine/models/vae/config';
import { capabilityVerdicts, type HeaderReader } from '../../../src/engine/store/capabilities';
import { readModelHeader, type PlacedTensor } from '../../../src/engine/store/header-check';
import { estimateImage, estimateStory, gpuWeightBytes, type ModelSizes } from '../../../src/engine/store/memory-estimate';
import { CLIP_L_TEXT_ENCODER, FLUX1_TRANSFORMER, T5_V1_1_XXL_ENCODER } from '../../../src/engine/store/standard-models';
import { kQuantFluxGguf } from '../../helpers/model-store-fixtures';

const GiB = 2 ** 30;
const H100 = { maxStorageBufferBindingSize: 2 * GiB, maxBufferSize: 2 * GiB };
const FLUX_DEV: FluxConfig = { ...FLUX1_TRANSFORMER, guidance: true };
/** city96's converter keeps these in F16 (spec/flux.md §5.2) */
const UNQUANTIZED = /^(img_in|txt_in|time_in|vector_in|guidance_in|final_layer)\./;

function fluxTensors(config: FluxConfig, type: (name: string) => 'Q4_0' | 'F16'): PlacedTensor[] {
  return [...fluxTensorShapes(config)].map(([name, shape]) => ({ name, shape, type: shape.length === 1 ? 'F32' : type(name), placement: shape.length === 1 ? 'vector' : 'matrix' }));
}

function sizes(transformerWeights: number, vaeType: 'F16' | 'F32' = 'F16'): ModelSizes {
  const vae = [...vaeTensorShapes(FLUX_VAE_DECODER)].map(([name, shape]): PlacedTensor => ({ name, shape, type: shape.length === 1 ? 'F32' : vaeType, placement: shape.length === 1 ? 'vector' : 'matrix' }));
  return {
    transformer: { config: FLUX_DEV, weightBytes: transformerWeights },
    t5: { config: T5_V1_1_XXL_ENCODER, weightBytes: 5.06e9 },
    clip: { config: CLIP_L_TEXT_ENCODER, weightBytes: 246_144_152 },
    vae: { config: FLUX_VAE_DECODER, weightBytes: gpuWeightBytes(vae) },
  };
}

describe('the memory estimate at full size', () => {
  // README "Measured on an NVIDIA H100": a FLUX.1-dev step with random Q4_0 weights (every matrix
  // Q4_0, as the bench makes them) and 512 text tokens peaked at 6.41 GiB (512²) and 6.62 GiB
  // (1024²); VAE decodes with F16 weights at 0.48 and 1.3 GiB.
  const benchModels = sizes(gpuWeightBytes(fluxTensors(FLUX_DEV, () => 'Q4_0')));

  it.each([
    [512, 6.41],
    [1024, 6.62],
  ])('puts the transformer stage at %i² where the H100 measured it (%f GiB, within 1%)', (side, measured) => {
    const estimate = estimateImage(benchModels, { width: side, height: side }, 512, H100);
    expect(estimate.stages.transformer / GiB).toBeGreaterThan(measured * 0.99);
    expect(estimate.stages.transformer / GiB).toBeLessThan(measured * 1.01);
  });

  // (the README rounds: 0.48 to two decimals, 1.3 to one)
  it.each([
    [512, 0.48, 0.005, 0.15],
    [1024, 1.3, 0.05, 0.05],
  ])('bounds the VAE decode at %i² from above, close to the measured %f GiB (±%f as rounded; at most +%f)', (side, measured, rounding, over) => {
    const vae = estimateImage(benchModels, { width: side, height: side }, 512, H100).stages.vae / GiB;
    expect(vae).toBeGreaterThanOrEqual(measured - rounding);
    expect(vae).toBeLessThan((measured + rounding) * (1 + over));
  });

  it('takes a catalog file size for the weights within 1% of the exact GPU bytes (city96 FLUX.1 [schnell] Q4_0)', () => {
    const exact = gpuWeightBytes(fluxTensors({ ...FLUX1_TRANSFORMER, guidance: false }, (name) => (UNQUANTIZED.test(name) ? 'F16' : 'Q4_0')));
    const catalogBytes = 6_770_707_360; // spec/model-catalog.md
    expect(Math.abs(catalogBytes / exact - 1)).toBeLessThan(0.01);
  });

  it('grows with the image and the batch, and a story needs more than a picture', () => {
    const models = sizes(6.77e9);
    const image = (side: number) => estimateImage(models, { width: side, height: side }, 512, H100).peak;
    const story = (side: number, framesPerBatch: number) =>
      estimateStory(models, { identity: { width: side, height: side }, frames: Array(4).fill({ width: side, height: side }), mode: 'maintain', schedule: 'dev-50', textTokens: 512, framesPerBatch }, H100).peak;
    expect(image(768)).toBeGreaterThan(image(512));
    expect(story(768, 4)).toBeGreaterThan(story(768, 1));
    expect(story(768, 1)).toBeGreaterThan(image(768));
    // identity + 4 frames of 1024² in one batch: four more tracks than a picture, each about [4608, 3072] f32 plus its similarity sums.
    expect((story(1024, 4) - image(1024)) / GiB).toBeGreaterThan(1);
  });
});

describe('capability verdicts', () => {
  const report = (limits: Partial<GpuReport['limits']> = {}, isSoftware = false): GpuReport => ({
    vendor: 'test', architecture: isSoftware ? 'swiftshader' : 'test', device: '', description: '', isSoftware, features: [], wgslLanguageFeatures: [],
    limits: {
      maxBufferSize: 4 * GiB, maxStorageBufferBindingSize: 2 * GiB, maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 256,
      maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupsPerDimension: 65535, maxStorageBuffersPerShaderStage: 10, minStorageBufferOffsetAlignment: 256, ...limits,
    },
  });
  const bundle = (transformerBytes: number, schedule: 'dev-50' | 'schnell-4' = 'schnell-4') => ({
    id: 'b', schedule,
    files: { transformer: { bytes: transformerBytes }, t5: { bytes: 5.06e9 }, clip: { bytes: 246_144_152 }, vae: { bytes: 335_304_388 } },
  });
  const request = (overrides: Partial<CapabilityRequest> = {}): CapabilityRequest => ({ bundles: [bundle(6.77e9)], sides: [512, 768, 1024, 1536], framesPerBatch: 4, ...overrides });
  const noHeaders: HeaderReader = () => Promise.reject(new Error('not read in this test'));

  it('suggests the largest size whose buffers fit the adapter (WebGPU\'s default 128 MiB binding)', async () => {
    const [verdict] = await capabilityVerdicts(request(), report({ maxStorageBufferBindingSize: 128 * 2 ** 20 }), noHeaders);
    expect(verdict.runnable).toBe(true);
    expect(verdict.exact).toBe(false);
    expect(verdict.sizes.map((size) => size.fits)).toEqual([true, true, true, false]);
    expect(verdict.largestSide).toBe(1024);
    // a story at 1536²: one frame's similarity sums are (96·96)² f32 = 324 MiB
    expect(verdict.sizes[3].reason).toMatch(/one of its buffers needs 324\.0 MiB, and this GPU allows 128\.0 MiB per buffer/);
  });

  it('refuses a bundle that does not fit the GPU memory the user gave, saying what it needs', async () => {
    const [fits, tooLarge] = await capabilityVerdicts(request({ bundles: [bundle(6.77e9), { ...bundle(12.7e9, 'dev-50'), id: 'q8' }], gpuMemoryBytes: 12 * GiB }), report(), noHeaders);
    expect(fits.runnable).toBe(true);
    expect(tooLarge.runnable).toBe(false);
    expect(tooLarge.reasons.join(' ')).toMatch(/Not even 512×512 fits: a story needs about 1\d\.\d GiB of GPU memory, more than the 10\.8 GiB a browser can count on of 12\.0 GiB/);
  });

  it('says a software adapter is far too slow, and refuses an adapter whose workgroup memory the kernels exceed', async () => {
    const [software] = await capabilityVerdicts(request(), report({}, true), noHeaders);
    expect(software.runnable).toBe(true);
    expect(software.notes.join(' ')).toMatch(/software GPU: it runs the engine correctly, but one picture takes hours/);
    const [small] = await capabilityVerdicts(request(), report({ maxComputeWorkgroupStorageSize: 4096 }), noHeaders);
    expect(small.runnable).toBe(false);
    expect(small.reasons[0]).toMatch(/4096 bytes of workgroup memory; the linear kernels need/);
  });

  it('reads the headers it is given: a K-quant transformer makes the bundle unrunnable before any download', async () => {
    const file = new Blob([kQuantFluxGguf()]);
    const headers: HeaderReader = (component, source) => readModelHeader(component, blobSource((source as { file: Blob }).file, 'k.gguf'));
    const kBundle = { ...bundle(file.size), files: { ...bundle(file.size).files, transformer: { bytes: file.size, source: { file, name: 'k.gguf' } } } };
    const [verdict] = await capabilityVerdicts(request({ bundles: [kBundle] }), report(), headers);
    expect(verdict.runnable).toBe(false);
    expect(verdict.reasons[0]).toMatch(/Q4_K, a K-quant/);
    expect(verdict.sizes).toEqual([]);
  });

  it('keeps an unreadable header (offline) from blocking: the estimate is then approximate', async () => {
    const offline: HeaderReader = () => Promise.reject(new EngineError('network', 'Reading x failed: fetch failed.', 'Check the connection.'));
    const withSource = { ...bundle(6.77e9), files: { ...bundle(6.77e9).files, vae: { bytes: 335_304_388, source: { url: 'https://example.org/ae.safetensors' } } } };
    const [verdict] = await capabilityVerdicts(request({ bundles: [withSource] }), report(), offline);
    expect(verdict.runnable).toBe(true);
    expect(verdict.exact).toBe(false);
    expect(verdict.notes.join(' ')).toMatch(/A header could not be read \(Reading x failed/);
  });
});
