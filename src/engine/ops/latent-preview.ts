// A live preview of a sample's latents (shaders/latent-preview.wgsl): packed tokens
// [rows · cols, 64] -> RGBA8 at latent resolution [2 rows, 2 cols] (1/8 of the image per side)
// through a fixed linear map of the 16 latent channels to RGB. No VAE: a few hundred FLOPs per
// pixel, cheap enough to run every few steps while a story samples.

import latentPreviewWgsl from '../../../shaders/latent-preview.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { checkDistinct, checkVector, checkView, requireCount } from './checks';
import { grid1d } from './grid';
import { LATENT_CHANNELS, type PatchGrid } from './layout';
import { f32, params, u32 } from './params';
import type { MatrixView, VectorView } from './view';

const SOURCE = { file: 'shaders/latent-preview.wgsl', code: latentPreviewWgsl };
const WORKGROUP = 256;

/**
 * FLUX.1's latent channels -> RGB [16][3] and the bias [3], for latents in the transformer's space
 * ((z - shift) · scale, before the VAE's unscaling): ComfyUI's `latent_rgb_factors` and
 * `latent_rgb_factors_bias` of `class Flux` in comfy/latent_formats.py, which its previewer applies
 * as `linear(x0, factors, bias)` and maps from [-1, 1] to bytes.
 */
export const FLUX_LATENT_RGB_FACTORS: readonly (readonly [number, number, number])[] = [
  [-0.0346, 0.0244, 0.0681],
  [0.0034, 0.021, 0.0687],
  [0.0275, -0.0668, -0.0433],
  [-0.0174, 0.016, 0.0617],
  [0.0859, 0.0721, 0.0329],
  [0.0004, 0.0383, 0.0115],
  [0.0405, 0.0861, 0.0915],
  [-0.0236, -0.0185, -0.0259],
  [-0.0245, 0.025, 0.118],
  [0.1008, 0.0755, -0.0421],
  [-0.0515, 0.0201, 0.0011],
  [0.0428, -0.0012, -0.0036],
  [0.0817, 0.0765, 0.0749],
  [-0.1264, -0.0522, -0.1103],
  [-0.028, -0.0881, -0.0499],
  [-0.1262, -0.0982, -0.0778],
];
export const FLUX_LATENT_RGB_BIAS: readonly [number, number, number] = [-0.0329, -0.0718, -0.0851];

/** The projection as the shader's uniform rows: one vec4 per channel, then the bias (the 4th lane unused). */
const PROJECTION = [...FLUX_LATENT_RGB_FACTORS, FLUX_LATENT_RGB_BIAS].flatMap((rgb) => [...rgb, 0].map(f32));

export class LatentPreviewOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<LatentPreviewOp> {
    const kernel = await gpu.kernels.get({ name: 'latent preview', sources: [SOURCE], entryPoint: 'latent_preview', storage: ['tokens', 'rgba'], params: true });
    return new LatentPreviewOp(gpu, kernel);
  }

  /** Pixels of the preview of a token grid: [2 rows, 2 cols]. */
  static pixels(grid: PatchGrid): number {
    return 4 * grid.rows * grid.cols;
  }

  /** rgba: u32 [2 rows · 2 cols], row-major, R in the low byte, alpha 255. */
  record(rec: Recorder, tokens: MatrixView, grid: PatchGrid, rgba: VectorView): void {
    requireCount('latent preview rows', grid.rows);
    requireCount('latent preview cols', grid.cols);
    const pixels = LatentPreviewOp.pixels(grid);
    checkView('latent preview tokens', tokens, grid.rows * grid.cols, 4 * LATENT_CHANNELS);
    checkVector('latent preview target', rgba, pixels);
    checkDistinct('latent preview target', rgba.buffer, { tokens });
    const dispatch = grid1d(pixels, WORKGROUP, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    const block = params(
      u32(grid.rows), u32(grid.cols), u32(tokens.offset), u32(tokens.stride), u32(rgba.offset), u32(dispatch.rowStride), u32(0), u32(0),
      ...PROJECTION,
    );
    rec.dispatch(this.kernel, { tokens: tokens.buffer, rgba: rgba.buffer }, block, dispatch.workgroups);
  }
}
