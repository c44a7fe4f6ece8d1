import { describe, expect, it } from 'vitest';
import { dequantize, quantize } from '../../src/engine/formats/ggml-blocks';
import { CONV_TILES, ConvOp, tapMajorWeights, type ConvCall, type ConvTiles, type ConvWeightType } from '../../src/engine/ops/conv';
import { GpuWeight } from '../../src/engine/ops/weights';
import { relativeError } from '../../src/engine/reference/compare';
import { addReference, conv2dReference, swishReference, upsampleReference, type ReferenceImage } from '../../src/engine/reference/vae';
import { freshSeed, randomArray } from '../helpers/random';
import { POISON, testGpu, upload } from './harness';
import { toHwc } from './vae-images';

interface Case {
  name: string;
  type: ConvWeightType;
  tiles: 'auto' | 'baseline' | 'direct' | keyof typeof CONV_TILES;
  inChannels: number;
  outChannels: number;
  /** input image */
  height: number;
  width: number;
  kernelSize: 1 | 3;
  upsample?: boolean;
  prologue?: 'affine' | 'affine+silu';
  residual?: 'view' | 'accumulate';
  /** output rows [first, first + rows) computed from an input window starting at `inputFirst` (default: the whole image) */
  band?: { first: number; rows: number; inputFirst: number; inputRows: number };
}

/**
 * Awkward shapes: channel counts that are not multiples of the 32-wide K steps (taps straddle
 * them), of the 16/64/128-wide tiles, or below them; odd sizes; bands of rows read from windows
 * of the input at an offset. The tiles 'auto' takes on a GPU (64x64 at these sizes, the narrow
 * tile for few outputs, and the 128x128 tile, ~10 s to compile on SwiftShader) run for F32;
 * 'baseline' (the same WGSL with 16x16 tiles) and the direct kernel ('auto' on a software
 * adapter like this one) for every type.
 */
const CASES: Case[] = [
  { name: '3x3 13->37', type: 'F32', tiles: 'baseline', inChannels: 13, outChannels: 37, height: 7, width: 9, kernelSize: 3 },
  { name: '3x3 40->3 GroupNorm+SiLU, residual view', type: 'F16', tiles: 'baseline', inChannels: 40, outChannels: 3, height: 9, width: 5, kernelSize: 3, prologue: 'affine+silu', residual: 'view' },
  { name: '1x1 70->130 affine, accumulate', type: 'BF16', tiles: 'baseline', inChannels: 70, outChannels: 130, height: 5, width: 11, kernelSize: 1, prologue: 'affine', residual: 'accumulate' },
  { name: '3x3 upsample 16->20, band', type: 'F32', tiles: 'baseline', inChannels: 16, outChannels: 20, height: 4, width: 5, kernelSize: 3, upsample: true, band: { first: 3, rows: 4, inputFirst: 1, inputRows: 3 } },
  { name: '3x3 33->136 band, accumulate', type: 'F32', tiles: 'large', inChannels: 33, outChannels: 136, height: 13, width: 11, kernelSize: 3, residual: 'accumulate', prologue: 'affine+silu', band: { first: 5, rows: 5, inputFirst: 4, inputRows: 7 } },
  { name: '3x3 64->3 upsample (narrow tile)', type: 'F32', tiles: 'narrow', inChannels: 64, outChannels: 3, height: 6, width: 7, kernelSize: 3, upsample: true, prologue: 'affine+silu' },
  { name: '3x3 20->70 residual view', type: 'F32', tiles: 'medium', inChannels: 20, outChannels: 70, height: 11, width: 6, kernelSize: 3, residual: 'view' },
  { name: '1x1 48->200 residual view', type: 'F16', tiles: 'baseline', inChannels: 48, outChannels: 200, height: 3, width: 17, kernelSize: 1, residual: 'view' },
  // The direct kernel, what 'auto' runs on a software adapter such as this one.
  { name: '3x3 upsample 13->37 GroupNorm+SiLU, band', type: 'F16', tiles: 'auto', inChannels: 13, outChannels: 37, height: 4, width: 5, kernelSize: 3, upsample: true, prologue: 'affine+silu', band: { first: 3, rows: 4, inputFirst: 1, inputRows: 3 } },
  { name: '1x1 70->3 accumulate', type: 'BF16', tiles: 'direct', inChannels: 70, outChannels: 3, height: 5, width: 11, kernelSize: 1, residual: 'accumulate' },
  { name: '3x3 33->36 residual view', type: 'F32', tiles: 'direct', inChannels: 33, outChannels: 36, height: 7, width: 6, kernelSize: 3, residual: 'view', prologue: 'affine' },
];

/** f32 sums of at most 9 · 70 products against float64; observed below 1e-6. */
const BOUND = 1e-5;

const opPromises = new Map<string, Promise<ConvOp>>();
async function opFor(type: ConvWeightType, tiles: Case['tiles']): Promise<ConvOp> {
  const gpu = await testGpu();
  const key = `${type} ${tiles}`;
  const chosen: ConvTiles = tiles in CONV_TILES ? CONV_TILES[tiles as keyof typeof CONV_TILES] : (tiles as ConvTiles);
  if (!opPromises.has(key)) opPromises.set(key, ConvOp.create(gpu, { type, tiles: chosen }));
  return opPromises.get(key)!;
}

describe('conv (shaders/conv.wgsl)', () => {
  it.each(CASES)('$name, $type $tiles tiles, matches the float64 reference', async (c) => {
    const gpu = await testGpu();
    const seed = freshSeed(`conv ${c.name}`);
    const scale = c.upsample ? 2 : 1;
    const [outHeight, outWidth] = [c.height * scale, c.width * scale];
    const band = c.band ?? { first: 0, rows: outHeight, inputFirst: 0, inputRows: c.height };
    const input: ReferenceImage = { channels: c.inChannels, height: c.height, width: c.width, values: Float64Array.from(randomArray(seed, c.inChannels * c.height * c.width)) };
    const taps = c.kernelSize ** 2;
    const stored = dequantize(c.type, quantize(c.type, randomArray(seed, c.outChannels * c.inChannels * taps, -0.3, 0.3)), c.outChannels * c.inChannels * taps);
    const bias = randomArray(seed, c.outChannels);
    const affine = randomArray(seed, 2 * c.inChannels, -1.5, 1.5);
    const residual = randomArray(seed, c.outChannels * outHeight * outWidth);

    // Reference: the whole output image, then the band's rows.
    let transformed = input;
    if (c.prologue) {
      const plane = c.height * c.width;
      transformed = { ...input, values: input.values.map((v, i) => v * affine[Math.floor(i / plane)] + affine[c.inChannels + Math.floor(i / plane)]) };
      if (c.prologue === 'affine+silu') transformed = swishReference(transformed);
    }
    let expected = conv2dReference(c.upsample ? upsampleReference(transformed) : transformed, stored, bias, c.outChannels, c.kernelSize);
    if (c.residual) expected = addReference(expected, { ...expected, values: Float64Array.from(residual) });
    const expectedBand = toHwc(expected).subarray(band.first * outWidth * c.outChannels, (band.first + band.rows) * outWidth * c.outChannels);

    // GPU: the input window and the output band sit at element offsets inside larger buffers.
    const inputHwc = toHwc(input);
    const inputOffset = 5;
    const inputBuffer = await upload(gpu, 'conv input', withPrefix(inputHwc.subarray(band.inputFirst * c.width * c.inChannels, (band.inputFirst + band.inputRows) * c.width * c.inChannels), inputOffset));
    const outputOffset = 3;
    const bandValues = band.rows * outWidth * c.outChannels;
    const residualBand = toHwc({ ...expected, values: Float64Array.from(residual) }).subarray(band.first * outWidth * c.outChannels, (band.first + band.rows) * outWidth * c.outChannels);
    const initial = c.residual === 'accumulate' ? Float32Array.from(residualBand) : new Float32Array(new Uint32Array(bandValues).fill(POISON).buffer);
    const outputBuffer = await upload(gpu, 'conv output', withPrefix(initial, outputOffset, 4));
    const weight = await GpuWeight.upload(gpu, 'conv weight', c.type, c.outChannels, taps * c.inChannels, quantize(c.type, tapMajorWeights(stored, c.outChannels, c.inChannels, c.kernelSize)));
    const vectors = await upload(gpu, 'conv bias and affine', Float32Array.from([...bias, ...affine]));
    const residualBuffer = await upload(gpu, 'conv residual', Float32Array.from(residualBand));
    const op = await opFor(c.type, c.tiles);
    const call: ConvCall = {
      weight,
      kernelSize: c.kernelSize,
      bias: { buffer: vectors, offset: 0 },
      input: { size: { height: c.height, width: c.width, channels: c.inChannels }, band: { view: { buffer: inputBuffer, offset: inputOffset, stride: c.inChannels }, firstRow: band.inputFirst, rows: band.inputRows } },
      upsample: c.upsample,
      prologue: c.prologue && { affine: { buffer: vectors, offset: c.outChannels }, silu: c.prologue === 'affine+silu' },
      output: { view: { buffer: outputBuffer, offset: outputOffset, stride: c.outChannels }, firstRow: band.first, rows: band.rows },
      residual: c.residual === 'view' ? { buffer: residualBuffer, offset: 0, stride: c.outChannels } : c.residual,
    };
    const rec = gpu.recorder('conv test');
    op.record(rec, call);
    await rec.submit();
    const result = await gpu.memory.readF32(outputBuffer);
    expect(relativeError(result.subarray(outputOffset, outputOffset + bandValues), expectedBand)).toBeLessThan(BOUND);
    // Nothing written around the band.
    const words = new Uint32Array(result.buffer);
    expect([...words.subarray(0, outputOffset), ...words.subarray(outputOffset + bandValues)].every((word) => word === POISON)).toBe(true);
    weight.release();
    [inputBuffer, outputBuffer, vectors, residualBuffer].forEach((buffer) => gpu.memory.release(buffer));
  });

  it('refuses an input window that misses rows the output band reads', async () => {
    const gpu = await testGpu();
    const op = await opFor('F32', 'baseline');
    const weight = await GpuWeight.upload(gpu, 'w', 'F32', 4, 9 * 4, new Uint8Array(4 * 36 * 4));
    const buffer = await gpu.memory.allocate('x', 4 * 10 * 10 * 4);
    const output = await gpu.memory.allocate('y', 4 * 10 * 10 * 4);
    const call: ConvCall = {
      weight, kernelSize: 3, bias: { buffer, offset: 0 },
      input: { size: { height: 10, width: 10, channels: 4 }, band: { view: { buffer, offset: 0, stride: 4 }, firstRow: 3, rows: 4 } },
      output: { view: { buffer: output, offset: 0, stride: 4 }, firstRow: 3, rows: 4 },
    };
    // Output rows 3..6 read input rows 2..7.
    expect(() => op.record(gpu.recorder('refused'), call)).toThrow(/rows 2\.\.7 are needed/);
  });
});

/** `values` after `offset` poisoned elements, followed by `after` more. */
function withPrefix(values: ArrayLike<number>, offset: number, after = 0): Float32Array {
  const out = new Float32Array(new Uint32Array(offset + values.length + after).fill(POISON).buffer);
  out.set(values, offset);
  return out;
}
