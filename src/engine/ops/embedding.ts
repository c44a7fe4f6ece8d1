// Embedding gather (shaders/embedding.wgsl): the rows of a table held as a GpuWeight (any
// LinearWeightType, so T5's 32128 x 4096 table stays quantized on the GPU), picked by token ids
// and decoded to f32 into a matrix view. One op per table weight type.

import embeddingWgsl from '../../../shaders/embedding.wgsl';
import quantWgsl from '../../../shaders/quant.wgsl';
import weightPlanesWgsl from '../../../shaders/weight-planes.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { checkDistinct, checkVector, checkView, requireCount, requireThat } from './checks';
import { grid1d } from './grid';
import { params, u32 } from './params';
import { vectorBinding, viewBinding, type MatrixView, type VectorView } from './view';
import { WEIGHT_TYPE_CODES, type GpuWeight, type LinearWeightType } from './weights';

const SOURCES = [
  { file: 'shaders/quant.wgsl', code: quantWgsl },
  { file: 'shaders/weight-planes.wgsl', code: weightPlanesWgsl },
  { file: 'shaders/embedding.wgsl', code: embeddingWgsl },
];
const WORKGROUP = 64;

export interface EmbeddingArgs {
  /** [vocabulary, cols] */
  table: GpuWeight;
  /** u32 [tokens] row indices into the table; ids past its end give zero rows */
  ids: VectorView;
  tokens: number;
  /** [tokens, cols], in a buffer other than the ids' */
  output: MatrixView;
}

export class EmbeddingOp {
  private constructor(private readonly gpu: GpuRuntime, readonly type: LinearWeightType, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime, options: { type: LinearWeightType }): Promise<EmbeddingOp> {
    const kernel = await gpu.kernels.get({
      name: `embedding.${options.type}`,
      sources: SOURCES,
      entryPoint: 'gather_embeddings',
      constants: { WEIGHT_TYPE: WEIGHT_TYPE_CODES[options.type] },
      storage: ['weights', 'ids', 'output'],
      params: true,
    });
    return new EmbeddingOp(gpu, options.type, kernel);
  }

  /** Records output[t, :] = table[ids[t], :] for t < tokens. */
  record(rec: Recorder, args: EmbeddingArgs): void {
    const { table, ids, tokens, output } = args;
    requireThat('embedding table', table.type === this.type, `it is ${table.type}, this op gathers ${this.type}`);
    requireCount('embedding tokens', tokens, 0);
    checkVector('embedding ids', ids, tokens);
    checkView('embedding output', output, tokens, table.cols);
    checkDistinct('embedding output', output.buffer, { 'embedding ids': ids });
    if (tokens === 0) return;
    const { limits } = this.gpu;
    const idsWindow = vectorBinding(ids, tokens, limits.minStorageBufferOffsetAlignment);
    const outputWindow = viewBinding(output, tokens, table.cols, limits.minStorageBufferOffsetAlignment);
    table.parts.forEach(({ firstRow, layout, buffer }, index) => {
      const grid = grid1d(tokens * layout.groupsPerRow, WORKGROUP, limits.maxComputeWorkgroupsPerDimension);
      const block = params(
        u32(tokens), u32(table.cols), u32(idsWindow.offset), u32(outputWindow.offset), u32(output.stride),
        u32(firstRow), u32(index === table.parts.length - 1 ? 1 : 0),
        u32(layout.rows), u32(layout.rowWords), u32(layout.highBitsBase), u32(layout.scalesBase), u32(layout.scaleRowWords), u32(layout.groupsPerRow),
        u32(grid.rowStride),
      );
      rec.dispatch(this.kernel, { weights: buffer, ids: idsWindow.binding, output: outputWindow.binding }, block, grid.workgroups);
    });
  }
}
