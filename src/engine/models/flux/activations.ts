// GPU memory for running the FLUX transformer on images of one size: scratch shared by every
// sample that runs through a block (samples run one after another within a block), and the state
// each sample keeps across blocks and steps (its residual stream, conditioning, latents).
//
// Every buffer stays within one storage binding: q, k, v and the attention output are
// [tokens, hidden] each, and the MLP hidden activations [tokens, mlp] — the largest tensor — are
// processed in chunks of rows sized to the device's binding limit.

import type { GpuRuntime } from '../../gpu/runtime';
import { fluxPositionIds, ropeTable } from '../../ops/rope-table';
import { uploadRopeTable, type GpuRopeTable } from '../../ops/rope';
import { dense, type MatrixView } from '../../ops/view';
import { TIME_EMBED_DIM, type FluxConfig } from './config';

/** Upper bound on MLP chunk rows: big enough for efficient GEMMs, small enough to save memory. */
const MAX_MLP_CHUNK_ROWS = 1024;

/** Rows of the MLP's hidden activations computed at a time (the memory estimate uses the same rule). */
export function mlpChunkRowsFor(config: FluxConfig, maxTokens: number, limits: { maxStorageBufferBindingSize: number }): number {
  return Math.max(1, Math.min(maxTokens, MAX_MLP_CHUNK_ROWS, Math.floor(limits.maxStorageBufferBindingSize / (4 * config.mlpHidden))));
}

export interface FluxShape {
  textTokens: number;
  /** image token grid (latent / 2) */
  rows: number;
  cols: number;
}

export const imageTokensOf = (shape: FluxShape) => shape.rows * shape.cols;
export const tokensOf = (shape: FluxShape) => shape.textTokens + imageTokensOf(shape);

/** Scratch for one block of one sample at a time, sized for the largest shape it will see. */
export class FluxScratch {
  private constructor(
    /** modulated LayerNorm output [tokens, hidden] */
    readonly normed: MatrixView,
    readonly q: MatrixView,
    readonly k: MatrixView,
    readonly v: MatrixView,
    /** attention output [tokens, hidden] (heads concatenated) */
    readonly attention: MatrixView,
    /** MLP hidden activations [mlpChunkRows, mlp] */
    readonly mlp: MatrixView,
    readonly mlpChunkRows: number,
    /** modulation chunks: double blocks use both (img, txt), single blocks the first */
    readonly modulation: [GPUBuffer, GPUBuffer],
    /** [hidden] temporaries of the conditioning MLPs */
    readonly embedderHidden: GPUBuffer,
    readonly embedderActivated: GPUBuffer,
    /** [hidden] of ones: the gate that turns the gated-residual epilogue into a plain add */
    readonly ones: GPUBuffer,
    private readonly buffers: GPUBuffer[],
    private readonly gpu: GpuRuntime,
  ) {}

  static async create(gpu: GpuRuntime, config: FluxConfig, maxTokens: number): Promise<FluxScratch> {
    const h = config.hidden;
    const mlpChunkRows = mlpChunkRowsFor(config, maxTokens, gpu.limits);
    const matrix = (label: string, rows: number, cols: number) => gpu.memory.allocate(`flux ${label} [${rows}, ${cols}]`, 4 * rows * cols);
    const buffers = await Promise.all([
      matrix('normed', maxTokens, h), matrix('q', maxTokens, h), matrix('k', maxTokens, h), matrix('v', maxTokens, h),
      matrix('attention', maxTokens, h), matrix('mlp chunk', mlpChunkRows, config.mlpHidden),
      matrix('modulation A', 1, 6 * h), matrix('modulation B', 1, 6 * h),
      matrix('embedder hidden', 1, h), matrix('embedder activated', 1, h),
      gpu.memory.uploadNew('flux ones', new Float32Array(h).fill(1)),
    ]);
    const [normed, q, k, v, attention, mlp, modA, modB, hidden, activated, ones] = buffers;
    return new FluxScratch(
      dense(normed, h), dense(q, h), dense(k, h), dense(v, h), dense(attention, h), dense(mlp, config.mlpHidden), mlpChunkRows,
      [modA, modB], hidden, activated, ones, buffers, gpu,
    );
  }

  release(): void {
    this.buffers.forEach((buffer) => this.gpu.memory.release(buffer));
  }
}

/** One image being generated: what it keeps between blocks and steps. */
export class FluxSample {
  /** which of `latents` holds x_t */
  private current = 0;

  private constructor(
    readonly label: string,
    readonly shape: FluxShape,
    /** residual stream [tokens, hidden], text rows first */
    readonly x: MatrixView,
    /** T5 embeddings [textTokens, contextDim] */
    readonly text: MatrixView,
    /** CLIP pooled [vecDim] */
    readonly pooled: GPUBuffer,
    /** sinusoidal embeddings of the timestep and the guidance, [256] each */
    readonly timeEmbedding: GPUBuffer,
    readonly guidanceEmbedding: GPUBuffer,
    /** conditioning vector and silu of it, [hidden] */
    readonly vec: GPUBuffer,
    readonly activatedVec: GPUBuffer,
    /** packed latents x_t [imageTokens, 64], current and next (Euler ping-pong) */
    readonly latents: [MatrixView, MatrixView],
    /** velocity prediction [imageTokens, 64] */
    readonly velocity: MatrixView,
    readonly rope: GpuRopeTable,
    private readonly buffers: GPUBuffer[],
    private readonly gpu: GpuRuntime,
  ) {}

  /**
   * Allocates a sample and uploads its conditioning (text [textTokens, contextDim], pooled
   * [vecDim]). Position ids [tokens, 3] default to FLUX's: zeros for text, (0, row, col) for the grid.
   */
  static async create(
    gpu: GpuRuntime,
    config: FluxConfig,
    label: string,
    shape: FluxShape,
    text: Float32Array,
    pooled: Float32Array,
    positionIds: ArrayLike<number> = fluxPositionIds(shape.textTokens, shape.rows, shape.cols),
  ): Promise<FluxSample> {
    const tokens = tokensOf(shape);
    const imageTokens = imageTokensOf(shape);
    const alloc = (name: string, elements: number) => gpu.memory.allocate(`${label} ${name}`, 4 * elements);
    const rope = await uploadRopeTable(gpu, `${label} rope`, ropeTable(positionIds, config.axesDim, config.theta));
    const buffers = await Promise.all([
      alloc('x', tokens * config.hidden),
      gpu.memory.uploadNew(`${label} text`, text),
      gpu.memory.uploadNew(`${label} pooled`, pooled),
      alloc('time embedding', TIME_EMBED_DIM), alloc('guidance embedding', TIME_EMBED_DIM),
      alloc('vec', config.hidden), alloc('silu(vec)', config.hidden),
      alloc('latents A', imageTokens * config.inChannels), alloc('latents B', imageTokens * config.inChannels),
      alloc('velocity', imageTokens * config.inChannels),
    ]);
    const [x, textBuffer, pooledBuffer, time, guidance, vec, activated, latentA, latentB, velocity] = buffers;
    const inner = config.inChannels;
    return new FluxSample(
      label, shape, dense(x, config.hidden), dense(textBuffer, config.contextDim), pooledBuffer, time, guidance, vec, activated,
      [dense(latentA, inner), dense(latentB, inner)], dense(velocity, inner), rope, [...buffers, rope.buffer], gpu,
    );
  }

  /** The latents the next forward pass reads. */
  get currentLatents(): MatrixView {
    return this.latents[this.current];
  }

  /** Where the Euler step writes; becomes current after swapLatents(). */
  get nextLatents(): MatrixView {
    return this.latents[1 - this.current];
  }

  swapLatents(): void {
    this.current = 1 - this.current;
  }

  release(): void {
    this.buffers.forEach((buffer) => this.gpu.memory.release(buffer));
  }
}
