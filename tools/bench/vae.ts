// The VAE suite: FLUX.1's full-size decoder with random F16 weights made on the GPU, decoding
// 512x512 and 1024x1024 (or, with --quick, a 32-channel, one-block-per-level decoder on a 16x16 image),
// against the same decode with the convolution's 16x16 baseline tiles. Reports the end-to-end
// wall time of a decode (every band submitted and finished), TFLOP/s over the decoder's
// convolutions and attention, and peak GPU memory (weights included).

import { formatBytes } from '../../src/engine/errors';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { vaeDecoderFlops } from '../../src/engine/models/vae/cost';
import { FLUX_VAE_DECODER, vaeTensorShapes, type VaeDecoderConfig } from '../../src/engine/models/vae/config';
import { VaeDecoder } from '../../src/engine/models/vae/decoder';
import { isGroupNormWeight } from '../../src/engine/models/vae/names';
import { assembleVaeWeights, type VaeDecoderWeights, type VaeWeightSource } from '../../src/engine/models/vae/weights';
import type { ConvTiles } from '../../src/engine/ops/conv';
import type { PatchGrid } from '../../src/engine/ops/layout';
import { GpuWeight } from '../../src/engine/ops/weights';
import type { BenchOptions, BenchSuite } from './suite';
import type { BenchRow } from './table';

interface VaeCase {
  config: VaeDecoderConfig;
  /** latent tokens; the image is 16 times larger on each side */
  grid: PatchGrid;
}

const FULL_CASES: VaeCase[] = [
  { config: FLUX_VAE_DECODER, grid: { rows: 32, cols: 32 } },
  { config: FLUX_VAE_DECODER, grid: { rows: 64, cols: 64 } },
];
/** The real topology (4 levels, upsampling, shortcut-free blocks, attention) at 32 channels throughout, on a 16x16 image. */
export const QUICK_CASES: VaeCase[] = [{ config: { ...FLUX_VAE_DECODER, channels: 32, channelMultipliers: [1, 1, 1, 1], blocksPerLevel: 1 }, grid: { rows: 1, cols: 1 } }];

const TILES: { tiles: ConvTiles; kernel: string }[] = [
  { tiles: 'auto', kernel: 'conv auto tiles (128x128, 64x64, 128x16)' },
  { tiles: 'baseline', kernel: 'conv 16x16 tiles' },
];

/** Random F16 conv weights of std 1/sqrt(fan-in) (uniform), filled on the GPU; GroupNorm gammas 1, small biases. */
export function randomSource(gpu: GpuRuntime, config: VaeDecoderConfig): VaeWeightSource {
  let seed = 1;
  return {
    conv: async (spec) => {
      const fanIn = spec.kernelSize ** 2 * spec.inChannels;
      const weight = await GpuWeight.create(gpu, spec.label, 'F16', spec.outChannels, fanIn);
      await weight.fillRandom(seed++, Math.sqrt(3 / fanIn));
      return weight;
    },
    vectors: (layout) => {
      const shapes = vaeTensorShapes(config);
      const values = new Float32Array(layout.length);
      for (const [name, offset] of layout.offsets) {
        const [length] = shapes.get(name)!;
        for (let i = offset; i < offset + length; i++) values[i] = isGroupNormWeight(name) ? 1 : 0.05 * Math.sin(i);
      }
      return gpu.memory.uploadNew('VAE random vectors', values);
    },
  };
}

async function timeDecode(gpu: GpuRuntime, weights: VaeDecoderWeights, vaeCase: VaeCase, tiles: ConvTiles, options: BenchOptions) {
  const decoder = await VaeDecoder.create(gpu, weights, { convTiles: tiles });
  const { rows, cols } = vaeCase.grid;
  const tokens = await gpu.memory.uploadNew('VAE bench latents', new Float32Array(rows * cols * 64).map((_, i) => 1.5 * Math.sin(0.37 * i)));
  const rgba = await gpu.memory.allocate('VAE bench image', 4 * 256 * rows * cols);
  const once = async () => {
    const started = performance.now();
    const timings = await decoder.decode({ buffer: tokens, offset: 0, stride: 64 }, vaeCase.grid, { rgba: { buffer: rgba, offset: 0 } });
    return { wallMs: performance.now() - started, gpuMs: timings.reduce((sum, t) => sum + t.ms, 0) };
  };
  for (let i = 0; i < options.timing.warmup; i++) await once();
  gpu.memory.resetPeak();
  const samples = [];
  for (let i = 0; i < options.timing.repetitions; i++) samples.push(await once());
  const peakBytes = gpu.memory.peakBytes;
  samples.sort((a, b) => a.wallMs - b.wallMs);
  decoder.release();
  [tokens, rgba].forEach((buffer) => gpu.memory.release(buffer));
  return { ...samples[Math.floor(samples.length / 2)], peakBytes };
}

async function benchCase(gpu: GpuRuntime, vaeCase: VaeCase, options: BenchOptions): Promise<BenchRow> {
  const liveBefore = gpu.memory.liveBytes;
  const weights = await assembleVaeWeights(gpu, vaeCase.config, randomSource(gpu, vaeCase.config));
  const weightBytes = gpu.memory.liveBytes - liveBefore;
  const results = [];
  for (const { tiles, kernel } of TILES) {
    const result = await timeDecode(gpu, weights, vaeCase, tiles, options);
    options.log(`  ${kernel}: ${result.wallMs.toFixed(1)} ms wall, ${result.gpuMs.toFixed(1)} ms in kernels, peak ${formatBytes(result.peakBytes)}`);
    results.push({ ...result, kernel });
  }
  weights.release();
  const { rows, cols } = vaeCase.grid;
  return {
    group: 'vae',
    name: `VAE decode ${16 * rows}x${16 * cols}, ch ${vaeCase.config.channels}, F16 weights`,
    kernel: results[0].kernel,
    ms: results[0].wallMs,
    flops: vaeDecoderFlops(vaeCase.config, vaeCase.grid),
    bytes: weightBytes + 4 * rows * cols * (64 + 256),
    baseline: { kernel: results[1].kernel, ms: results[1].wallMs },
    note: `peak ${formatBytes(results[0].peakBytes)} (weights ${formatBytes(weightBytes)}); kernels ${results[0].gpuMs.toFixed(1)} ms`,
  };
}

export const vaeSuite: BenchSuite = {
  name: 'vae',
  description: 'FLUX.1 VAE decoder (random F16 weights) at 512x512 and 1024x1024, against 16x16 baseline conv tiles',
  run: async (gpu, options) => {
    const rows: BenchRow[] = [];
    for (const vaeCase of options.quick ? QUICK_CASES : FULL_CASES) {
      options.log(`VAE ${16 * vaeCase.grid.rows}x${16 * vaeCase.grid.cols}, ${(vaeDecoderFlops(vaeCase.config, vaeCase.grid) / 1e12).toFixed(2)} TFLOP per decode`);
      rows.push(await benchCase(gpu, vaeCase, options));
    }
    return rows;
  },
};
