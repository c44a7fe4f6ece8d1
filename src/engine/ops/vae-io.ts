// The VAE decoder's ends (shaders/vae-io.wgsl): packed latent tokens -> HWC latent with the
// AutoEncoder's scale and shift (spec/flux.md §3.1, §3.5), and the decoded image -> RGBA8.

import vaeIoWgsl from '../../../shaders/vae-io.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { checkDistinct, checkVector, checkView, requireCount } from './checks';
import { grid1d } from './grid';
import { LATENT_CHANNELS, type PatchGrid } from './layout';
import { f32, params, u32 } from './params';
import type { MatrixView, VectorView } from './view';

const SOURCE = { file: 'shaders/vae-io.wgsl', code: vaeIoWgsl };
const WORKGROUP = 256;

/** AutoEncoder.decode's `z / scale_factor + shift_factor` for FLUX.1's VAE (spec/flux.md §3.5). */
export const LATENT_SCALING_FACTOR = 0.3611;
export const LATENT_SHIFT_FACTOR = 0.1159;

/** tokens [rows · cols, 64] -> latent [2 rows, 2 cols, 16] (HWC), z = x / 0.3611 + 0.1159. */
export class LatentUnpackOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<LatentUnpackOp> {
    const kernel = await gpu.kernels.get({ name: 'vae unpack latent', sources: [SOURCE], entryPoint: 'unpack_latent', storage: ['tokens', 'latent'], params: true });
    return new LatentUnpackOp(gpu, kernel);
  }

  /** latent: [4 · rows · cols pixels, 16], pixel (y, x) at row y · 2 cols + x. */
  record(rec: Recorder, tokens: MatrixView, grid: PatchGrid, latent: MatrixView): void {
    requireCount('latent unpack rows', grid.rows);
    requireCount('latent unpack cols', grid.cols);
    const tokenCount = grid.rows * grid.cols;
    checkView('latent unpack tokens', tokens, tokenCount, 4 * LATENT_CHANNELS);
    checkView('latent unpack latent', latent, 4 * tokenCount, LATENT_CHANNELS);
    checkDistinct('latent unpack latent', latent.buffer, { tokens });
    const dispatch = grid1d(4 * tokenCount * LATENT_CHANNELS, WORKGROUP, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    const block = params(
      u32(grid.rows), u32(grid.cols), u32(LATENT_CHANNELS), u32(tokens.offset), u32(tokens.stride), u32(latent.offset), u32(latent.stride),
      f32(LATENT_SCALING_FACTOR), f32(LATENT_SHIFT_FACTOR), u32(dispatch.rowStride),
    );
    rec.dispatch(this.kernel, { tokens: tokens.buffer, latent: latent.buffer }, block, dispatch.workgroups);
  }
}

/** image [pixels, 3] (R, G, B, nominally in [-1, 1]) -> u32 [pixels]: bytes round(127.5 · (clamp(x, -1, 1) + 1)), R lowest, alpha 255. */
export class RgbaPackOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<RgbaPackOp> {
    const kernel = await gpu.kernels.get({ name: 'vae pack rgba', sources: [SOURCE], entryPoint: 'pack_rgba', storage: ['image', 'rgba'], params: true });
    return new RgbaPackOp(gpu, kernel);
  }

  record(rec: Recorder, image: MatrixView, pixels: number, rgba: VectorView): void {
    requireCount('rgba pack pixels', pixels);
    checkView('rgba pack image', image, pixels, 3);
    checkVector('rgba pack target', rgba, pixels);
    checkDistinct('rgba pack target', rgba.buffer, { image });
    const dispatch = grid1d(pixels, WORKGROUP, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    const block = params(u32(pixels), u32(image.offset), u32(image.stride), u32(rgba.offset), u32(dispatch.rowStride));
    rec.dispatch(this.kernel, { image: image.buffer, rgba: rgba.buffer }, block, dispatch.workgroups);
  }
}
