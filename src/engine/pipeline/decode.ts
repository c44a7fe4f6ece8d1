// The VAE decoder of a generation, loaded once and kept while its pictures are decoded (a story
// decodes every picture with the same decoder: the file is read and the kernels are built once).

import type { GpuRuntime } from '../gpu/runtime';
import { VaeDecoder } from '../models/vae/decoder';
import { loadVaeWeights } from '../models/vae/load';
import type { VaeDecoderWeights } from '../models/vae/weights';
import { openModelFile } from '../models/model-file';
import { dense } from '../ops/view';
import type { FluxModelFiles } from './models';

/** Pixels per token side: the VAE's 8x upsampling times the 2x2 patches. */
const TOKEN_PIXELS = 16;

export class PictureDecoder {
  private constructor(
    private readonly gpu: GpuRuntime,
    private readonly weights: VaeDecoderWeights,
    private readonly decoder: VaeDecoder,
  ) {}

  /** Reads the VAE file (progress in bytes) and builds the decoder. */
  static async load(gpu: GpuRuntime, files: Pick<FluxModelFiles, 'vae'>, onProgress?: (loadedBytes: number, totalBytes: number) => void): Promise<PictureDecoder> {
    const file = await openModelFile(await files.vae.open());
    let weights: VaeDecoderWeights;
    try {
      weights = await loadVaeWeights(gpu, file, ({ loadedBytes, totalBytes }) => onProgress?.(loadedBytes, totalBytes));
    } finally {
      await file.close();
    }
    try {
      return new PictureDecoder(gpu, weights, await VaeDecoder.create(gpu, weights));
    } catch (error) {
      weights.release();
      throw error;
    }
  }

  /** Packed latents [rows * cols, 64] -> RGBA8 [16 rows, 16 cols, 4]. */
  async decode(latents: Float32Array, grid: { rows: number; cols: number }): Promise<Uint8Array> {
    const pixels = TOKEN_PIXELS ** 2 * grid.rows * grid.cols;
    const tokens = await this.gpu.memory.uploadNew('vae latents', latents);
    try {
      const rgba = await this.gpu.memory.allocate('vae rgba', 4 * pixels);
      try {
        await this.decoder.decode(dense(tokens, 64), grid, { rgba: { buffer: rgba, offset: 0 } });
        return new Uint8Array(await this.gpu.memory.readback(rgba, 4 * pixels));
      } finally {
        this.gpu.memory.release(rgba);
      }
    } finally {
      this.gpu.memory.release(tokens);
    }
  }

  release(): void {
    this.decoder.release();
    this.weights.release();
  }
}
