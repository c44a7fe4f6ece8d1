// Flash attention over matrix views (shaders/attention.wgsl), optionally with CharaConsist's
// extra keys/values from another image, seen by the queries of the matching label
// (spec/characonsist-official.md §7, §16), or with a relative-position bias (T5, spec/flux.md §4.1). With extras, the caller first records
// recordQueryGroups once per set of query labels (a frame's mask changes once per step; every
// block of that step reuses the grouping), then passes its output to each record().

import commonWgsl from '../../../shaders/attention-common.wgsl';
import attentionWgsl from '../../../shaders/attention.wgsl';
import subgroupRowsWgsl from '../../../shaders/attention-rows-subgroup.wgsl';
import workgroupRowsWgsl from '../../../shaders/attention-rows-workgroup.wgsl';
import { invalidInput, limitsTooSmall } from '../errors';
import type { ShaderSource, Kernel } from '../gpu/kernels';
import type { Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { describeKernel, generatedAttentionKernel, type AttentionKernelShape } from './attention-kernel';
import { f32, params, u32 } from './params';
import { type MatrixView, type VectorView } from './view';
import { checkDistinct, checkVector, checkView, requireCount } from './checks';

const COMMON = { file: 'shaders/attention-common.wgsl', code: commonWgsl };
const WRITTEN = { file: 'shaders/attention.wgsl', code: attentionWgsl };
const ROW_REDUCTIONS = {
  subgroup: { file: 'shaders/attention-rows-subgroup.wgsl', code: subgroupRowsWgsl },
  workgroup: { file: 'shaders/attention-rows-workgroup.wgsl', code: workgroupRowsWgsl },
};
export type RowReduction = keyof typeof ROW_REDUCTIONS;

/**
 * Workgroup shapes: queries and keys per tile, threads. Each thread holds
 * queryTile / (workgroup / rowThreads) queries; workgroup memory is workgroupBytes(tile).
 */
const TILES = {
  /** 32 KiB */
  large: { queryTile: 64, keyTile: 64, workgroup: 256 },
  /**
   * 12 KiB: fits every adapter (WebGPU guarantees 16 KiB). Fastest on an H100 also against
   * 64x32 and 64x64 tiles of 128 threads with the written kernel (4 queries per thread: 14.0 and
   * 10.3 TFLOP/s against 16.1).
   */
  small: { queryTile: 32, keyTile: 32, workgroup: 128 },
  /** twice the queries of the small tile on as many threads (20 KiB); meant for the generated kernel */
  wide: { queryTile: 64, keyTile: 32, workgroup: 128 },
  /** twice the keys of the small tile on as many threads (20 KiB) */
  deep: { queryTile: 32, keyTile: 64, workgroup: 128 },
};
export type AttentionTile = keyof typeof TILES;

/**
 * q·k is staged DIM_CHUNK dims at a time by default. 64 measured a third slower with the written
 * kernel on an H100 (fewer barriers, but 20 KiB of workgroup memory for the small tile).
 */
const DEFAULT_DIM_CHUNK = 32;

/**
 * Bytes of workgroup memory: the q and k chunks (f32 or f16), the tile's probabilities, and with
 * f16 operands the row partials (which the f32 kernels keep in the staging space).
 */
function workgroupBytes({ tile, dimChunk, operands, rowThreads }: Pick<Shape, 'tile' | 'dimChunk' | 'operands' | 'rowThreads'>): number {
  const { queryTile, keyTile } = tile;
  const operandBytes = operands === 'f16' ? 2 : 4;
  return operandBytes * (queryTile + keyTile) * dimChunk + 4 * queryTile * keyTile + (operands === 'f16' ? 4 * queryTile * rowThreads : 0);
}

/** Keys of v staged at once: the largest power of two that fits the q/k staging space and divides the key tile. */
function valueChunk({ queryTile, keyTile }: TileShape, headDim: number, dimChunk: number): number {
  const fits = Math.min(keyTile, Math.floor(((queryTile + keyTile) * dimChunk) / headDim));
  return 2 ** Math.floor(Math.log2(fits));
}

/**
 * Lanes per row group by default (a query's keys and output columns are split over them): 16
 * measured fastest on an H100 (16.7 TFLOP/s at 24 x 128, 4608 tokens, against 16.1 with 8 and
 * 15.3 with 32), with workgroup-memory row reductions a little ahead of subgroup shuffles.
 */
const DEFAULT_ROW_THREADS = 16;
/** WebGPU's smallest subgroup, when the device does not report its own. */
const MIN_SUBGROUP_SIZE = 4;

/** query groups start with the positions of the first foreground and first background query */
const GROUPS_HEADER = 2;

const REPORT = 'This is a bug in the app: please report it with this message.';

/** Columns of a position-bias table: one per relative position j − i. */
export function positionBiasColumns(queryCount: number, keyCount: number): number {
  return queryCount + keyCount - 1;
}

export interface AttentionOptions {
  /** 128 for FLUX, 64 for T5 and CLIP, 512 for the VAE's single-head mid-block attention (32 and 256 also fit the tiles) */
  headDim: number;
  /**
   * Defaults to workgroup memory (a little ahead of subgroup shuffles on an H100, and on every
   * adapter); 'subgroup' needs the `subgroups` feature.
   */
  rowReduction?: RowReduction;
  /** Defaults to the small tile (the faster one measured on an H100). */
  tile?: AttentionTile;
  /**
   * Lanes that share a query (a power of two dividing the key tile and headDim / 4); default 8,
   * or the subgroup size if smaller. Tuning only.
   */
  rowThreads?: number;
  /**
   * 'written' (default): shaders/attention.wgsl. 'generated': the same algorithm emitted from
   * TypeScript with every register loop unrolled (attention-kernel.ts), which alone takes the
   * options below. Tuning until measured.
   */
  source?: 'written' | 'generated';
  /** dims of q and k staged per step: 32 (default) or 64 */
  dimChunk?: number;
  /** generated only: read the next q/k chunk into registers before the current chunk's dot products */
  prefetch?: boolean;
  /** generated only: 'f16' stages q, k and v in f16 (needs shader-f16); scores, softmax and sums stay f32 */
  operands?: 'f32' | 'f16';
}

/** Rows [start, start + count) of the extra keys and values. */
export interface KeyRange {
  start: number;
  count: number;
}

export interface AttentionExtras {
  /** [extras, heads·headDim]; each label's extras must be one contiguous range of rows (e.g. [background…, foreground…]) */
  keys: MatrixView;
  /** [extras, heads·headDim], rows matching `keys` */
  values: MatrixView;
  /** rows seen by foreground queries (label 1) */
  foreground: KeyRange;
  /** rows seen by background queries (label 2) */
  background: KeyRange;
  /** the queries grouped by label: a buffer written by recordQueryGroups for these queries */
  queryGroups: GPUBuffer;
}

export interface AttentionArgs {
  /** [queryCount, heads·headDim], head h at columns h·headDim.. */
  queries: MatrixView;
  /** [keyCount, heads·headDim]: always visible to every query */
  keys: MatrixView;
  /** [keyCount, heads·headDim] */
  values: MatrixView;
  /** [queryCount, heads·headDim], in a buffer that no operand is read from */
  output: MatrixView;
  queryCount: number;
  keyCount: number;
  heads: number;
  /** softmax scale; default 1/sqrt(headDim) (T5 uses 1) */
  scale?: number;
  /** query row i sees own keys 0..i only (CLIP's text encoder); not combinable with extras */
  causal?: boolean;
  extras?: AttentionExtras;
  /**
   * [heads, queryCount + keyCount − 1]: row h, column j − i + queryCount − 1 is added to head h's
   * score of key j for query i (after the scale, natural-log units). T5's relative-position bias;
   * not combinable with extras.
   */
  positionBias?: MatrixView;
}

type TileShape = (typeof TILES)[AttentionTile];

interface Shape {
  subgroups: boolean;
  headDim: number;
  rowThreads: number;
  tile: TileShape;
  dimChunk: number;
  generated: boolean;
  prefetch: boolean;
  operands: 'f32' | 'f16';
}

export class AttentionOp {
  private constructor(
    private readonly attention: Kernel,
    private readonly grouping: Kernel,
    private readonly shape: Shape,
  ) {}

  static async create(gpu: GpuRuntime, options: AttentionOptions): Promise<AttentionOp> {
    const shape = chooseShape(gpu, options);
    const sources = [constantsChunk(shape), COMMON, ...kernelSources(shape)];
    const name = `attention d${shape.headDim} ${shape.generated ? `generated ${describeKernel(kernelShape(shape))}` : `${shape.tile.queryTile}x${shape.tile.keyTile}/${shape.rowThreads}${shape.subgroups ? ' subgroup' : ''}`}`;
    const [attention, grouping] = await Promise.all([
      gpu.kernels.get({ name, sources, entryPoint: 'attention', storage: ['queries', 'keys', 'values', 'extra_keys', 'extra_values', 'query_groups', 'position_bias', 'output'], params: true }),
      gpu.kernels.get({ name: 'attention query grouping', sources, entryPoint: 'group_queries_by_label', storage: ['labels', 'grouped_queries'], params: true }),
    ]);
    return new AttentionOp(attention, grouping, shape);
  }

  /** Bytes of the buffer recordQueryGroups writes for `queryCount` queries. */
  static queryGroupsBytes(queryCount: number): number {
    return 4 * (GROUPS_HEADER + queryCount);
  }

  /**
   * Records the grouping of queries by label into `groups` (queryGroupsBytes(queryCount) bytes),
   * for AttentionExtras.queryGroups. labels: u32 [queryCount], 0 = sees no extras (text
   * tokens), 1 = foreground, 2 = background; any other value counts as 0.
   */
  recordQueryGroups(rec: Recorder, labels: VectorView, queryCount: number, groups: GPUBuffer): void {
    requireCount('attention queries', queryCount, 0);
    checkVector('attention query labels', labels, queryCount);
    checkVector('attention query groups', { buffer: groups, offset: 0 }, GROUPS_HEADER + queryCount);
    checkDistinct('attention query groups', groups, { 'query labels': labels });
    rec.dispatch(this.grouping, { labels: labels.buffer, grouped_queries: groups }, params(u32(queryCount), u32(labels.offset)), [1]);
  }

  /** Records the attention. */
  record(rec: Recorder, args: AttentionArgs): void {
    this.check(args);
    const { queries, keys, values, output, extras, positionBias } = args;
    // Without extras the kernel reads neither the extra bindings nor query_groups, nor without a
    // bias its table; the own keys, values and queries stand in for them.
    const queryGroups = extras?.queryGroups ?? queries.buffer;
    const extraKeys = extras?.keys ?? keys;
    const extraValues = extras?.values ?? values;
    const foreground = extras?.foreground ?? { start: 0, count: 0 };
    const background = extras?.background ?? { start: 0, count: 0 };
    const block = params(
      u32(args.queryCount), u32(args.keyCount),
      u32(queries.offset), u32(queries.stride), u32(keys.offset), u32(keys.stride), u32(values.offset), u32(values.stride),
      u32(extraKeys.offset), u32(extraKeys.stride), u32(extraValues.offset), u32(extraValues.stride),
      u32(output.offset), u32(output.stride),
      u32(foreground.start), u32(foreground.start + foreground.count), u32(background.start), u32(background.start + background.count),
      f32((args.scale ?? 1 / Math.sqrt(this.shape.headDim)) * Math.LOG2E),
      u32(extras ? 1 : 0), u32(args.causal ? 1 : 0),
      u32(positionBias ? 1 : 0), u32(positionBias?.offset ?? 0), u32(positionBias?.stride ?? 0),
    );
    const bindings = {
      queries: queries.buffer, keys: keys.buffer, values: values.buffer, extra_keys: extraKeys.buffer, extra_values: extraValues.buffer,
      query_groups: queryGroups, position_bias: positionBias?.buffer ?? queries.buffer, output: output.buffer,
    };
    rec.dispatch(this.attention, bindings, block, [Math.ceil(args.queryCount / this.shape.tile.queryTile), args.heads]);
  }

  private check(args: AttentionArgs): void {
    requireCount('attention queries', args.queryCount, 0);
    requireCount('attention keys', args.keyCount, 0);
    requireCount('attention heads', args.heads);
    const width = args.heads * this.shape.headDim;
    checkView('attention queries', args.queries, args.queryCount, width);
    checkView('attention keys', args.keys, args.keyCount, width);
    checkView('attention values', args.values, args.keyCount, width);
    checkView('attention output', args.output, args.queryCount, width);
    const read: Record<string, { buffer: GPUBuffer }> = { queries: args.queries, keys: args.keys, values: args.values };
    const { extras, positionBias } = args;
    if (positionBias) {
      checkView('attention position bias', positionBias, args.heads, positionBiasColumns(args.queryCount, args.keyCount));
      read['position bias'] = positionBias;
    }
    if (extras) {
      if (args.causal) throw invalidInput('Causal attention cannot take extra keys.', REPORT);
      if (positionBias) throw invalidInput('Attention with a position bias cannot take extra keys.', REPORT);
      const rows = Math.max(rangeEnd('foreground extras', extras.foreground), rangeEnd('background extras', extras.background));
      checkView('attention extra keys', extras.keys, rows, width);
      checkView('attention extra values', extras.values, rows, width);
      checkVector('attention query groups', { buffer: extras.queryGroups, offset: 0 }, GROUPS_HEADER + args.queryCount);
      Object.assign(read, { 'extra keys': extras.keys, 'extra values': extras.values, 'query groups': { buffer: extras.queryGroups } });
    }
    checkDistinct('attention output', args.output.buffer, read);
  }
}

function rangeEnd(what: string, range: KeyRange): number {
  requireCount(`${what} start`, range.start, 0);
  requireCount(`${what} count`, range.count, 0);
  return range.start + range.count;
}

function chooseShape(gpu: GpuRuntime, options: AttentionOptions): Shape {
  const { headDim } = options;
  if (![32, 64, 128, 256, 512].includes(headDim)) throw invalidInput(`Attention head size ${headDim} is not 32, 64, 128, 256 or 512.`, REPORT);
  const subgroups = options.rowReduction === 'subgroup';
  if (subgroups && !gpu.features.has('subgroups')) throw invalidInput('Attention with subgroup row reductions needs the subgroups feature, which this device lacks.', REPORT);
  const { generated, operands, dimChunk, prefetch } = kernelOptions(gpu, options);
  const subgroupSize = gpu.device.adapterInfo?.subgroupMinSize ?? MIN_SUBGROUP_SIZE;
  const rowThreads = options.rowThreads ?? Math.min(DEFAULT_ROW_THREADS, headDim / 4, subgroups ? subgroupSize : DEFAULT_ROW_THREADS);
  // The small tile measured faster on an H100 (16.1 against 13.2 TFLOP/s at 24 x 128, 4608 tokens;
  // README "Benchmarks"), and it fits every adapter's workgroup memory.
  const tileName = options.tile ?? 'small';
  const tile = TILES[tileName];
  const { maxComputeWorkgroupStorageSize, maxComputeInvocationsPerWorkgroup } = gpu.limits;
  const what = `the ${tileName} attention tile`;
  const bytes = workgroupBytes({ tile, dimChunk, operands, rowThreads });
  if (bytes > maxComputeWorkgroupStorageSize) throw limitsTooSmall('workgroup memory (bytes)', bytes, maxComputeWorkgroupStorageSize, what);
  if (tile.workgroup > maxComputeInvocationsPerWorkgroup) throw limitsTooSmall('threads per workgroup', tile.workgroup, maxComputeInvocationsPerWorkgroup, what);
  const rowGroups = tile.workgroup / rowThreads;
  const fits = [tile.keyTile, headDim / 4, tile.workgroup].every((n) => n % rowThreads === 0) && tile.queryTile % rowGroups === 0;
  // Row partials go through workgroup memory in vec4s (attention-rows-workgroup.wgsl).
  const partialsFit = subgroups || (rowThreads % 4 === 0 && tile.queryTile * rowThreads <= (tile.queryTile + tile.keyTile) * dimChunk);
  if (!(Number.isInteger(Math.log2(rowThreads)) && fits && partialsFit && (!subgroups || rowThreads <= subgroupSize))) {
    throw invalidInput(`Attention rows of ${rowThreads} threads do not fit the ${tileName} tile at head size ${headDim}${subgroups ? ` with subgroups of ${subgroupSize}` : ''}.`, REPORT);
  }
  return { subgroups, headDim, rowThreads, tile, dimChunk, generated, prefetch, operands };
}

/** The options that choose the kernel's source and staging, checked against each other and the device. */
function kernelOptions(gpu: GpuRuntime, options: AttentionOptions): Pick<Shape, 'generated' | 'operands' | 'dimChunk' | 'prefetch'> {
  const generated = options.source === 'generated';
  const operands = options.operands ?? 'f32';
  const dimChunk = options.dimChunk ?? DEFAULT_DIM_CHUNK;
  const prefetch = options.prefetch ?? false;
  if (!generated && (prefetch || operands !== 'f32')) throw invalidInput('Prefetching and f16 operands are options of the generated attention kernel.', REPORT);
  if (operands === 'f16' && !gpu.features.has('shader-f16')) throw invalidInput('Attention with f16 operands needs the shader-f16 feature, which this device lacks.', 'Use f32 operands (the default).');
  if (![32, 64].includes(dimChunk) || options.headDim % dimChunk !== 0) throw invalidInput(`Attention cannot stage ${dimChunk} dims per step at head size ${options.headDim}.`, REPORT);
  return { generated, operands, dimChunk, prefetch };
}

/** The constants attention-common.wgsl is written against (see its header). */
function constantsChunk(shape: Shape): ShaderSource {
  const { subgroups, headDim, rowThreads, tile, dimChunk, operands } = shape;
  const lines = [
    ...(operands === 'f16' ? ['enable f16;'] : []),
    ...(subgroups ? ['enable subgroups;'] : []),
    `alias StageScalar = ${operands};`,
    `const HEAD_DIM = ${headDim}u;`,
    `const QUERY_TILE = ${tile.queryTile}u;`,
    `const KEY_TILE = ${tile.keyTile}u;`,
    `const WORKGROUP = ${tile.workgroup}u;`,
    `const ROW_THREADS = ${rowThreads}u;`,
    `const DIM_CHUNK = ${dimChunk}u;`,
    `const VALUE_CHUNK = ${valueChunk(tile, headDim, dimChunk)}u;`,
  ];
  return { file: 'attention constants (src/engine/ops/attention.ts)', code: lines.join('\n') };
}

function kernelShape(shape: Shape): AttentionKernelShape {
  const { headDim, rowThreads, tile, dimChunk, prefetch, operands } = shape;
  return { headDim, ...tile, rowThreads, dimChunk, valueChunk: valueChunk(tile, headDim, dimChunk), rowReduction: shape.subgroups ? 'subgroup' : 'workgroup', prefetch, operands };
}

/** The kernel after the common part: written (with its row reductions) or generated. */
function kernelSources(shape: Shape): ShaderSource[] {
  if (shape.generated) return [generatedAttentionKernel(kernelShape(shape))];
  return [WRITTEN, ROW_REDUCTIONS[shape.subgroups ? 'subgroup' : 'workgroup']];
}
