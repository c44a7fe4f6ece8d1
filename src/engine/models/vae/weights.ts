// The VAE decoder's weights on the GPU: every convolution as a GpuWeight [out, k² · in] in the
// tap-major layout ConvOp reads (the attention's q, k and v stacked into one 1x1 convolution),
// and every bias and GroupNorm gamma/beta in one f32 buffer. Where the values come from is a
// VaeWeightSource: a model file (load.ts) or random values made on the GPU (the benchmark).

import type { GpuRuntime } from '../../gpu/runtime';
import type { VectorView } from '../../ops/view';
import type { GpuWeight } from '../../ops/weights';
import { decoderLayout, vaeTensorShapes, type ResnetLayout, type VaeDecoderConfig } from './config';

export interface ConvWeights {
  /** [outChannels, kernelSize² · inChannels], K tap-major (tapMajorWeights) */
  weight: GpuWeight;
  /** [outChannels] */
  bias: VectorView;
  kernelSize: 1 | 3;
}

export interface ResnetWeights {
  layout: ResnetLayout;
  /** gamma [in] then beta [in] */
  norm1: VectorView;
  conv1: ConvWeights;
  norm2: VectorView;
  conv2: ConvWeights;
  /** nin_shortcut, when the block changes the channel count */
  shortcut?: ConvWeights;
}

export interface VaeDecoderWeights {
  config: VaeDecoderConfig;
  convIn: ConvWeights;
  mid: {
    block1: ResnetWeights;
    attention: { norm: VectorView; /** q, k, v stacked: [3 · C, C] */ qkv: ConvWeights; projOut: ConvWeights };
    block2: ResnetWeights;
  };
  /** in run order, the deepest level first */
  levels: { blocks: ResnetWeights[]; upsample?: ConvWeights }[];
  normOut: VectorView;
  convOut: ConvWeights;
  /** every GPU buffer above */
  release(): void;
}

export interface ConvSpec {
  label: string;
  /** canonical names of the PyTorch weights [out, in, k, k] stacked along out (q, k, v) or one */
  sources: readonly string[];
  outChannels: number;
  inChannels: number;
  kernelSize: 1 | 3;
}

/** Where each canonical 1-D tensor sits in the decoder's one f32 vector buffer. */
export interface VectorLayout {
  offsets: ReadonlyMap<string, number>;
  /** values */
  length: number;
}

export interface VaeWeightSource {
  conv(spec: ConvSpec): Promise<GpuWeight>;
  /** The f32 buffer holding every canonical 1-D tensor as `layout` places it. */
  vectors(layout: VectorLayout): Promise<GPUBuffer>;
}

/** Builds the decoder's weights from `source`; on failure, frees whatever was made. */
export async function assembleVaeWeights(gpu: GpuRuntime, config: VaeDecoderConfig, source: VaeWeightSource): Promise<VaeDecoderWeights> {
  const layout = decoderLayout(config);
  const vectorLayout = vaeVectorLayout(config);
  const made: GpuWeight[] = [];
  let vectors: GPUBuffer | undefined;
  const release = () => {
    made.forEach((weight) => weight.release());
    if (vectors) gpu.memory.release(vectors);
  };
  try {
    vectors = await source.vectors(vectorLayout);
    const buffer = vectors;
    const vector = (name: string): VectorView => ({ buffer, offset: vectorLayout.offsets.get(name)! });
    const conv = async (prefix: string, inChannels: number, outChannels: number, kernelSize: 1 | 3, sources = [`${prefix}.weight`]): Promise<ConvWeights> => {
      const weight = await source.conv({ label: `VAE ${prefix}`, sources, outChannels, inChannels, kernelSize });
      made.push(weight);
      return { weight, bias: vector(`${sources[0].slice(0, -'.weight'.length)}.bias`), kernelSize };
    };
    const resnet = async (block: ResnetLayout): Promise<ResnetWeights> => ({
      layout: block,
      norm1: vector(`${block.prefix}.norm1.weight`),
      conv1: await conv(`${block.prefix}.conv1`, block.inChannels, block.outChannels, 3),
      norm2: vector(`${block.prefix}.norm2.weight`),
      conv2: await conv(`${block.prefix}.conv2`, block.outChannels, block.outChannels, 3),
      ...(block.shortcut ? { shortcut: await conv(`${block.prefix}.nin_shortcut`, block.inChannels, block.outChannels, 1) } : {}),
    });
    const { prefix, channels } = layout.mid.attention;
    const convIn = await conv(layout.convIn.prefix, layout.convIn.inChannels, layout.convIn.outChannels, 3);
    const block1 = await resnet(layout.mid.block1);
    const attention = {
      norm: vector(`${prefix}.norm.weight`),
      qkv: await conv(`${prefix}.qkv`, channels, 3 * channels, 1, ['q', 'k', 'v'].map((projection) => `${prefix}.${projection}.weight`)),
      projOut: await conv(`${prefix}.proj_out`, channels, channels, 1),
    };
    const block2 = await resnet(layout.mid.block2);
    const levels: VaeDecoderWeights['levels'] = [];
    for (const level of layout.levels) {
      const blocks: ResnetWeights[] = [];
      for (const block of level.blocks) blocks.push(await resnet(block));
      const upsample = level.upsample && (await conv(level.upsample.prefix, level.upsample.channels, level.upsample.channels, 3));
      levels.push({ blocks, ...(upsample ? { upsample } : {}) });
    }
    const normOut = vector(`${layout.normOut.prefix}.weight`);
    const convOut = await conv(layout.convOut.prefix, layout.convOut.inChannels, layout.convOut.outChannels, 3);
    return { config, convIn, mid: { block1, attention, block2 }, levels, normOut, convOut, release };
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * The 1-D tensors in canonical order: a norm's weight (gamma) is followed by its bias (beta), and
 * the biases of q, k and v follow each other, as the kernels read them.
 */
export function vaeVectorLayout(config: VaeDecoderConfig): VectorLayout {
  const offsets = new Map<string, number>();
  let length = 0;
  for (const [name, shape] of vaeTensorShapes(config)) {
    if (shape.length !== 1) continue;
    offsets.set(name, length);
    length += shape[0];
  }
  return { offsets, length };
}
