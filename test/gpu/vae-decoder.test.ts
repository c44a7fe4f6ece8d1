import { beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { bytesSource } from '../../src/engine/formats/byte-source';
import { quantize } from '../../src/engine/formats/ggml-blocks';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { openModelFile } from '../../src/engine/models/model-file';
import { VaeDecoder, type VaeDecoderOptions } from '../../src/engine/models/vae/decoder';
import { loadVaeWeights } from '../../src/engine/models/vae/load';
import type { VaeDecoderWeights } from '../../src/engine/models/vae/weights';
import { tapMajorWeights } from '../../src/engine/ops/conv';
import type { PatchGrid } from '../../src/engine/ops/layout';
import { relativeError } from '../../src/engine/reference/compare';
import { rgbaReference, vaeDecoderReference } from '../../src/engine/reference/vae';
import { TINY_VAE, tinyVaeBfl, tinyVaeDiffusers, tinyVaeTensors } from '../../tools/tiny-models/vae';
import { freshSeed, randomArray } from '../helpers/random';
import { poisonedBuffer, testGpu, upload } from './harness';
import { fromHwc } from './vae-images';

/**
 * 1 x 2 tokens: a 2 x 4 latent, a 16 x 32 image. Small, because SwiftShader runs this decoder
 * (38 convolutions, one of them at full resolution with K = 576) at tens of MFLOP/s.
 */
const GRID: PatchGrid = { rows: 1, cols: 2 };
const [HEIGHT, WIDTH] = [16 * GRID.rows, 16 * GRID.cols];

interface Decoded {
  /** f32 [H, W, 3] before clamping */
  pixels: Float32Array;
  rgba: Uint32Array;
}

let gpu: GpuRuntime;
let bfl: VaeDecoderWeights;
let latentTokens: Float32Array;
let latentBuffer: GPUBuffer;
let untiled: Promise<Decoded> | undefined;
let latentSeed: number | undefined;

async function load(parts: Uint8Array[], name: string): Promise<VaeDecoderWeights> {
  return loadVaeWeights(gpu, await openModelFile(bytesSource(concat(parts), name)));
}

/** The latents every decode here reads: drawn by the first test that needs them; each test prints their seed if it fails. */
async function latents(): Promise<void> {
  if (latentSeed === undefined) {
    latentSeed = freshSeed('vae decoder latents');
    // Unit-scale latents, as the sampler produces.
    latentTokens = randomArray(latentSeed, GRID.rows * GRID.cols * 64, -1.7, 1.7);
    latentBuffer = await upload(gpu, 'latent tokens', latentTokens);
  } else {
    const seed = latentSeed;
    onTestFailed(() => console.log(`[seed] vae decoder latents: TEST_SEED=${seed}`));
  }
}

async function decode(weights: VaeDecoderWeights, options: VaeDecoderOptions = {}): Promise<Decoded> {
  await latents();
  const decoder = await VaeDecoder.create(gpu, weights, options);
  const pixelBuffer = await poisonedBuffer(gpu, 'decoded pixels', HEIGHT * WIDTH * 3);
  const rgbaBuffer = await poisonedBuffer(gpu, 'decoded rgba', HEIGHT * WIDTH);
  await decoder.decode({ buffer: latentBuffer, offset: 0, stride: 64 }, GRID, { rgba: { buffer: rgbaBuffer, offset: 0 }, pixels: pixelBuffer });
  const decoded = { pixels: await gpu.memory.readF32(pixelBuffer), rgba: await gpu.memory.readU32(rgbaBuffer) };
  decoder.release();
  [pixelBuffer, rgbaBuffer].forEach((buffer) => gpu.memory.release(buffer));
  return decoded;
}

/** The BFL file decoded with the default options, shared by the tests that compare against it. */
function untiledDecode(): Promise<Decoded> {
  untiled ??= decode(bfl);
  return untiled;
}

const bits = (values: Float32Array) => new Uint32Array(values.slice().buffer);

beforeAll(async () => {
  gpu = await testGpu();
  bfl = await load(tinyVaeBfl('F32'), 'vae-tiny-f32.safetensors');
});

describe('VAE decoder (tiny model: ch 32, 4 levels, 3 blocks each)', () => {
  it('matches the float64 reference: the f32 image, and the RGBA bytes within 1', async () => {
    const decoded = await untiledDecode();
    const weights = tinyVaeTensors();
    const expected = vaeDecoderReference(TINY_VAE, (name) => weights.get(name)!.values, latentTokens, GRID.rows, GRID.cols);
    // f32 through 38 convolutions, 31 GroupNorms and the attention; observed about 2e-6.
    expect(relativeError(fromHwc(decoded.pixels, 3, HEIGHT, WIDTH).values, expected.values)).toBeLessThan(1e-4);
    const expectedRgba = rgbaReference(expected);
    for (let p = 0; p < HEIGHT * WIDTH; p++) {
      for (let shift = 0; shift < 32; shift += 8) {
        expect(Math.abs(((decoded.rgba[p] >>> shift) & 255) - ((expectedRgba[p] >>> shift) & 255))).toBeLessThanOrEqual(1);
      }
    }
  });

  it('decodes in two-row parts exactly as unsplit', async () => {
    // Rows of up.0..up.2's activations are 4 KiB here: 16 KiB parts hold two rows and their halos.
    const tiled = await decode(bfl, { maxPartBytes: 16 * 1024 });
    const whole = await untiledDecode();
    expect(bits(tiled.pixels)).toEqual(bits(whole.pixels));
    expect(tiled.rgba).toEqual(whole.rgba);
  });

  it('gives the same bits from a diffusers-named file', async () => {
    const diffusers = await load(tinyVaeDiffusers('F32'), 'vae-tiny-diffusers-f32.safetensors');
    const decoded = await decode(diffusers);
    diffusers.release();
    expect(bits(decoded.pixels)).toEqual(bits((await untiledDecode()).pixels));
  });

  it('loads an F16 file as its exact f16 values, tap-major', async () => {
    const f16 = await load(tinyVaeBfl('F16'), 'vae-tiny-f16.safetensors');
    const weights = tinyVaeTensors();
    for (const [name, conv] of [['decoder.conv_in', f16.convIn], ['decoder.up.1.block.0.nin_shortcut', f16.levels[2].blocks[0].shortcut!]] as const) {
      const { weight } = conv;
      expect(weight.type).toBe('F16');
      const [part] = weight.parts;
      const stored = new Uint16Array(await gpu.memory.readback(part.buffer, 4 * part.layout.rows * part.layout.rowWords));
      const expected = new Uint16Array(quantize('F16', tapMajorWeights(weights.get(`${name}.weight`)!.values, weight.rows, weight.cols / conv.kernelSize ** 2, conv.kernelSize)).buffer);
      // Rows are padded to 32 values.
      const rows = Array.from({ length: weight.rows }, (_, row) => stored.subarray(2 * row * part.layout.rowWords, 2 * row * part.layout.rowWords + weight.cols));
      expect(rows.flatMap((row) => [...row])).toEqual([...expected]);
    }
    f16.release();
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
