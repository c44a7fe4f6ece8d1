// The FLUX transformer's weights on the GPU, shaped for the forward pass:
// - fused projections are split so every activation stays small enough for one storage binding
//   at 1024^2: qkv -> q, k, v; single-block linear1 -> q, k, v, mlpIn (rows); single-block
//   linear2 -> attnOut, mlpOut (columns, so linear2(cat(attn, mlp)) = attnOut(attn) + mlpOut(mlp));
// - every 1-D tensor (biases, QK-norm scales) lives in one f32 "vector arena", addressed by offset.
// Weights keep their file type (Q4_0, Q8_0, F16…): the kernels dequantize on the fly.

import { uniformFloats } from '../../sampling/philox';
import type { GpuRuntime } from '../../gpu/runtime';
import type { VectorView } from '../../ops/view';
import { GpuWeight, type LinearWeightType } from '../../ops/weights';
import type { ModelFile } from '../model-file';
import { HostVector, loadPlacements, type LoadProgress, type Placement } from '../tensor-loader';
import type { CanonicalTensor, FluxCheckpointPlan } from './checkpoint';
import { fluxTensorShapes, type FluxConfig } from './config';

export interface LinearWeights {
  weight: GpuWeight;
  bias?: VectorView;
}

export interface DoubleStreamWeights {
  modulation: LinearWeights;
  q: LinearWeights;
  k: LinearWeights;
  v: LinearWeights;
  queryNorm: VectorView;
  keyNorm: VectorView;
  proj: LinearWeights;
  mlpIn: LinearWeights;
  mlpOut: LinearWeights;
}

export interface SingleBlockWeights {
  modulation: LinearWeights;
  q: LinearWeights;
  k: LinearWeights;
  v: LinearWeights;
  queryNorm: VectorView;
  keyNorm: VectorView;
  mlpIn: LinearWeights;
  /** linear2's columns [0, hidden), with linear2's bias */
  attnOut: LinearWeights;
  /** linear2's columns [hidden, hidden + mlp), no bias */
  mlpOut: LinearWeights;
}

export interface MlpEmbedderWeights {
  in: LinearWeights;
  out: LinearWeights;
}

export interface FluxWeights {
  config: FluxConfig;
  imgIn: LinearWeights;
  txtIn: LinearWeights;
  timeIn: MlpEmbedderWeights;
  guidanceIn?: MlpEmbedderWeights;
  vectorIn: MlpEmbedderWeights;
  doubleBlocks: { img: DoubleStreamWeights; txt: DoubleStreamWeights }[];
  singleBlocks: SingleBlockWeights[];
  finalModulation: LinearWeights;
  finalLinear: LinearWeights;
  /** the weight types present (one LinearOp each) */
  types: ReadonlySet<LinearWeightType>;
  /** bytes of GPU memory the weights take */
  bytes: number;
  release(): void;
}

/** Where the values of the canonical tensors come from: a file (placements) or random numbers. */
interface WeightSource {
  /** A GpuWeight holding rows and columns of a canonical matrix. */
  matrix(canonical: string, rows: readonly [number, number], cols: readonly [number, number]): Promise<GpuWeight>;
  /** Elements [0, length) of a canonical vector go to `arena` at `offset`. */
  vector(canonical: string, offset: number, length: number): void;
  /** Called once every tensor is requested: completes the matrices and fills the arena. */
  finish(arena: GPUBuffer): Promise<void>;
}

/** The vector arena: each canonical 1-D tensor's element offset, and the total length. */
function vectorSlots(config: FluxConfig): { slots: Map<string, number>; length: number } {
  const slots = new Map<string, number>();
  let length = 0;
  for (const [name, shape] of fluxTensorShapes(config)) {
    if (shape.length !== 1) continue;
    slots.set(name, length);
    length += shape[0];
  }
  return { slots, length };
}

/** Builds the FluxWeights structure; `source` decides what fills each tensor. */
async function buildFluxWeights(gpu: GpuRuntime, config: FluxConfig, source: WeightSource): Promise<FluxWeights> {
  const shapes = fluxTensorShapes(config);
  const { slots, length } = vectorSlots(config);
  const vectors = await gpu.memory.allocate('flux vectors', 4 * length);
  const matrices: GpuWeight[] = [];
  const vectorAt = (name: string, elementOffset = 0): VectorView => ({ buffer: vectors, offset: slots.get(name)! + elementOffset });
  const h = config.hidden;
  const mlp = config.mlpHidden;
  const linear = async (name: string, rows?: readonly [number, number], cols?: readonly [number, number], withBias = true): Promise<LinearWeights> => {
    const shape = shapes.get(`${name}.weight`)!;
    const rowRange = rows ?? [0, shape[0]];
    const weight = await source.matrix(`${name}.weight`, rowRange, cols ?? [0, shape[1]]);
    matrices.push(weight);
    return withBias ? { weight, bias: vectorAt(`${name}.bias`, rowRange[0]) } : { weight };
  };
  const embedder = async (name: string): Promise<MlpEmbedderWeights> => ({ in: await linear(`${name}.in_layer`), out: await linear(`${name}.out_layer`) });
  const thirds = (name: string) => Promise.all([0, 1, 2].map((part) => linear(name, [part * h, (part + 1) * h])));

  const doubleStream = async (prefix: string): Promise<DoubleStreamWeights> => {
    const [q, k, v] = await thirds(`${prefix}_attn.qkv`);
    return {
      modulation: await linear(`${prefix}_mod.lin`),
      q, k, v,
      queryNorm: vectorAt(`${prefix}_attn.norm.query_norm.scale`),
      keyNorm: vectorAt(`${prefix}_attn.norm.key_norm.scale`),
      proj: await linear(`${prefix}_attn.proj`),
      mlpIn: await linear(`${prefix}_mlp.0`),
      mlpOut: await linear(`${prefix}_mlp.2`),
    };
  };
  const singleBlock = async (n: number): Promise<SingleBlockWeights> => {
    const prefix = `single_blocks.${n}`;
    const [q, k, v] = await thirds(`${prefix}.linear1`);
    return {
      modulation: await linear(`${prefix}.modulation.lin`),
      q, k, v,
      queryNorm: vectorAt(`${prefix}.norm.query_norm.scale`),
      keyNorm: vectorAt(`${prefix}.norm.key_norm.scale`),
      mlpIn: await linear(`${prefix}.linear1`, [3 * h, 3 * h + mlp]),
      attnOut: await linear(`${prefix}.linear2`, undefined, [0, h]),
      mlpOut: await linear(`${prefix}.linear2`, undefined, [h, h + mlp], false),
    };
  };

  const weights = {
    config,
    imgIn: await linear('img_in'),
    txtIn: await linear('txt_in'),
    timeIn: await embedder('time_in'),
    guidanceIn: config.guidance ? await embedder('guidance_in') : undefined,
    vectorIn: await embedder('vector_in'),
    doubleBlocks: [] as { img: DoubleStreamWeights; txt: DoubleStreamWeights }[],
    singleBlocks: [] as SingleBlockWeights[],
    finalModulation: await linear('final_layer.adaLN_modulation.1'),
    finalLinear: await linear('final_layer.linear'),
  };
  for (let n = 0; n < config.doubleBlocks; n++) weights.doubleBlocks.push({ img: await doubleStream(`double_blocks.${n}.img`), txt: await doubleStream(`double_blocks.${n}.txt`) });
  for (let n = 0; n < config.singleBlocks; n++) weights.singleBlocks.push(await singleBlock(n));
  for (const [name, offset] of slots) source.vector(name, offset, shapes.get(name)![0]);
  await source.finish(vectors);
  return {
    ...weights,
    types: new Set(matrices.map((matrix) => matrix.type)),
    bytes: matrices.reduce((sum, m) => sum + m.parts.reduce((s, p) => s + p.buffer.size, 0), 0) + vectors.size,
    release: () => {
      matrices.forEach((matrix) => matrix.release());
      gpu.memory.release(vectors);
    },
  };
}

/**
 * Loads a checkpoint planned by planFluxCheckpoint: allocates every weight, then streams the
 * file once, front to back, writing each chunk where it belongs.
 */
export async function loadFluxWeights(gpu: GpuRuntime, file: ModelFile, plan: FluxCheckpointPlan, onProgress?: (progress: LoadProgress) => void): Promise<FluxWeights> {
  const arena = new HostVector('flux vectors', vectorSlots(plan.config).length);
  const placements: Placement[] = [];
  const source: WeightSource = {
    async matrix(canonical, rows, cols) {
      const tensor = plan.tensors.get(canonical)!;
      const weight = await GpuWeight.create(gpu, describe(canonical, rows, cols, tensor.shape), tensor.type, rows[1] - rows[0], cols[1] - cols[0]);
      for (const piece of sourcePieces(tensor, rows)) placements.push({ source: piece.name, target: weight, rows: [piece.start, piece.end], cols, at: piece.at });
      return weight;
    },
    vector(canonical, offset, length) {
      for (const piece of sourcePieces(plan.tensors.get(canonical)!, [0, length])) {
        placements.push({ source: piece.name, target: arena, rows: [0, 1], cols: [piece.start, piece.end], at: offset + piece.at });
      }
    },
    async finish(vectors) {
      await loadPlacements(file, placements, onProgress);
      gpu.memory.upload(vectors, arena.values);
    },
  };
  return buildFluxWeights(gpu, plan.config, source);
}

/**
 * Full-size weights with random values generated on the GPU (benchmarks without downloads):
 * matrices of `type` with values of about 1/sqrt(fan-in), norm scales near 1, small biases.
 */
export async function randomFluxWeights(gpu: GpuRuntime, config: FluxConfig, type: LinearWeightType, seed = 1): Promise<FluxWeights> {
  const shapes = fluxTensorShapes(config);
  const arena = new Float32Array(vectorSlots(config).length);
  let count = 0;
  const source: WeightSource = {
    async matrix(canonical, rows, cols) {
      const weight = await GpuWeight.create(gpu, describe(canonical, rows, cols, shapes.get(canonical)!), type, rows[1] - rows[0], cols[1] - cols[0]);
      await weight.fillRandom(seed + count++, Math.sqrt(3 / (cols[1] - cols[0])));
      return weight;
    },
    vector(canonical, offset, length) {
      const unit = uniformFloats(seed, count++, length);
      const isScale = canonical.endsWith('_norm.scale');
      arena.set(unit.map((u) => (isScale ? 0.9 + 0.2 * u : 0.02 * (u - 0.5))), offset);
    },
    async finish(vectors) {
      gpu.memory.upload(vectors, arena);
    },
  };
  return buildFluxWeights(gpu, config, source);
}

/** Label of a (possibly sliced) weight, e.g. "single_blocks.3.linear1.weight rows 0..3071". */
function describe(canonical: string, rows: readonly [number, number], cols: readonly [number, number], shape: readonly number[]): string {
  const rowPart = rows[0] === 0 && rows[1] === shape[0] ? '' : ` rows ${rows[0]}..${rows[1] - 1}`;
  const colPart = cols[0] === 0 && cols[1] === shape[1] ? '' : ` cols ${cols[0]}..${cols[1] - 1}`;
  return `${canonical}${rowPart}${colPart}`;
}

/**
 * The pieces of file tensors that hold canonical rows [start, end) (elements, for 1-D tensors):
 * source `name` rows [start, end) land at offset `at` from the range's start. Handles parts
 * stacked at row offsets and diffusers' swapped halves.
 */
export function sourcePieces(tensor: CanonicalTensor, range: readonly [number, number]): { name: string; start: number; end: number; at: number }[] {
  const pieces: { name: string; start: number; end: number; at: number }[] = [];
  for (const source of tensor.sources) {
    const length = source.file.shape[0];
    const halves: [number, number, number][] = source.swapHalves
      ? [[0, length / 2, length / 2], [length / 2, length, 0]]
      : [[0, length, 0]];
    for (const [from, to, landsAt] of halves) {
      const canonicalStart = source.rowOffset + landsAt;
      const overlapStart = Math.max(canonicalStart, range[0]);
      const overlapEnd = Math.min(canonicalStart + (to - from), range[1]);
      if (overlapStart >= overlapEnd) continue;
      pieces.push({ name: source.file.name, start: from + overlapStart - canonicalStart, end: from + overlapEnd - canonicalStart, at: overlapStart - range[0] });
    }
  }
  return pieces;
}
