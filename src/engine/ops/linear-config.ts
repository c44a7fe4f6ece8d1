// Which linear kernels run where: the variants, their tile shapes, the choice from the adapter's
// features and limits, and the WGSL modules they are assembled from.

import directWgsl from '../../../shaders/linear-direct.wgsl';
import gemvWgsl from '../../../shaders/linear-gemv.wgsl';
import int8Wgsl from '../../../shaders/linear-int8.wgsl';
import tileWgsl from '../../../shaders/linear-tile.wgsl';
import tiledWgsl from '../../../shaders/linear-tiled.wgsl';
import linearWgsl from '../../../shaders/linear.wgsl';
import quantWgsl from '../../../shaders/quant.wgsl';
import weightPlanesWgsl from '../../../shaders/weight-planes.wgsl';
import { EngineError, invalidInput } from '../errors';
import type { ShaderSource } from '../gpu/kernels';
import { isBlockQuantized, type LinearWeightType } from './weights';

/**
 * 'auto': exact f32 activations: the register-tiled kernel, and the subgroup kernel for M <= 4
 *   when the adapter has subgroups; on a software adapter (a CPU), the direct kernel.
 * 'f32': the register-tiled kernel for every M.
 * 'subgroups': the subgroup kernel (one workgroup per output column) for every M.
 * 'int8': activations quantized to int8 per 32-column block, dot4I8Packed with the weight quants
 *   (block-quantized weights only; approximate: opt-in).
 * 'f16': the register-tiled kernel with f16 workgroup tiles (needs shader-f16; approximate).
 * 'baseline': plain 16x16 shared-memory tiling, one output per thread: the benchmark's reference point.
 * 'direct': one thread per output, no workgroup memory (the fastest on CPU implementations).
 */
export type LinearVariant = 'auto' | 'f32' | 'subgroups' | 'int8' | 'f16' | 'baseline' | 'direct';

/** Shape of a register-tiled kernel (the constants of shaders/linear-tile.wgsl). */
export interface TileShape {
  /** output rows (of X) per workgroup: BM */
  rows: number;
  /** output columns (rows of W) per workgroup: BN */
  cols: number;
  /** K columns staged per step: BK, a multiple of 32 */
  depth: number;
  /** outputs per thread in each direction: 1 or a multiple of 4 */
  threadTile: number;
  /** slot swizzle mask (0: plain layout) */
  swizzle: number;
  /** element type of the workgroup tiles: f32 values, f16 values, or u32 words of packed int8 */
  scalar: 'f32' | 'f16' | 'u32';
}

export type LinearKernel = { kind: 'tiled'; tile: TileShape } | { kind: 'int8'; tile: TileShape } | { kind: 'gemv' } | { kind: 'direct' };

export interface LinearPlan {
  /** Kernel for most calls. */
  main: LinearKernel;
  /** Kernel for calls with at most FEW_ROWS rows, when it differs from `main`. */
  fewRows?: LinearKernel;
}

/** Rows up to which 'auto' prefers the subgroup kernel (a column per workgroup). */
export const FEW_ROWS = 4;

export const BASELINE_TILE: TileShape = { rows: 16, cols: 16, depth: 32, threadTile: 1, swizzle: 0, scalar: 'f32' };

// Largest first; the first that fits the adapter's workgroup storage is used.
const F32_TILES: TileShape[] = [
  { rows: 128, cols: 128, depth: 32, threadTile: 8, swizzle: 7, scalar: 'f32' },
  { rows: 64, cols: 64, depth: 32, threadTile: 4, swizzle: 7, scalar: 'f32' },
];
const F16_TILES: TileShape[] = [
  { rows: 128, cols: 128, depth: 64, threadTile: 8, swizzle: 7, scalar: 'f16' },
  { rows: 128, cols: 128, depth: 32, threadTile: 8, swizzle: 7, scalar: 'f16' },
];
const INT8_TILES: TileShape[] = [
  { rows: 128, cols: 128, depth: 64, threadTile: 8, swizzle: 7, scalar: 'u32' },
  { rows: 64, cols: 64, depth: 64, threadTile: 4, swizzle: 7, scalar: 'u32' },
];

export interface LinearCapabilities {
  features: ReadonlySet<string>;
  /** a CPU implementation such as SwiftShader (GpuReport.isSoftware) */
  software: boolean;
  wgslLanguageFeatures: readonly string[];
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
}

/**
 * Chooses the kernels of `variant` for weights of `type`; throws a typed error if the adapter
 * cannot run it. `tile` replaces the built-in tile shape of the tiled variants (tuning runs).
 */
export function planLinear(variant: LinearVariant, type: LinearWeightType, capabilities: LinearCapabilities, tile?: TileShape): LinearPlan {
  const tiled = (candidates: TileShape[]) => ({ kind: 'tiled' as const, tile: chooseTile(candidates, capabilities, tile) });
  switch (variant) {
    case 'auto': {
      if (capabilities.software) return { main: { kind: 'direct' } };
      const main = tiled(F32_TILES);
      return capabilities.features.has('subgroups') ? { main, fewRows: { kind: 'gemv' } } : { main };
    }
    case 'f32':
      return { main: tiled(F32_TILES) };
    case 'baseline':
      return { main: tiled([BASELINE_TILE]) };
    case 'direct':
      return { main: { kind: 'direct' } };
    case 'subgroups':
      requireCapability(capabilities.features.has('subgroups'), variant, 'the subgroups feature');
      return { main: { kind: 'gemv' } };
    case 'f16':
      requireCapability(capabilities.features.has('shader-f16'), variant, 'the shader-f16 feature');
      return { main: tiled(F16_TILES) };
    case 'int8':
      requireCapability(capabilities.wgslLanguageFeatures.includes('packed_4x8_integer_dot_product'), variant, 'the WGSL language feature packed_4x8_integer_dot_product');
      if (!isBlockQuantized(type)) throw invalidInput(`The int8 linear variant needs block-quantized weights, not ${type}.`, "Use variant 'auto' for float weights.");
      return { main: { kind: 'int8', tile: chooseTile(INT8_TILES, capabilities, tile) } };
  }
}

function requireCapability(available: boolean, variant: LinearVariant, what: string): void {
  if (!available) throw invalidInput(`The '${variant}' linear variant needs ${what}, which this GPU does not offer.`, "Use variant 'auto'.");
}

/** Workgroup memory of a tiled kernel in bytes: the two staged tiles, plus the block scales of int8. */
export function workgroupBytes(tile: TileShape): number {
  const tileBytes = (tile.rows + tile.cols) * tile.depth * (tile.scalar === 'f16' ? 2 : tile.scalar === 'u32' ? 1 : 4);
  const scaleBytes = tile.scalar === 'u32' ? (tile.rows + tile.cols) * (tile.depth / 32) * 8 : 0;
  return tileBytes + scaleBytes;
}

/** `custom` if given, else the largest candidate that fits the adapter's workgroup memory. */
function chooseTile(candidates: TileShape[], capabilities: LinearCapabilities, custom: TileShape | undefined): TileShape {
  const tile = custom ?? candidates.find((candidate) => workgroupBytes(candidate) <= capabilities.maxComputeWorkgroupStorageSize);
  if (!tile) {
    const needed = workgroupBytes(candidates[candidates.length - 1]);
    throw new EngineError('limits-too-small', `This GPU offers ${capabilities.maxComputeWorkgroupStorageSize} bytes of workgroup memory; the linear kernels need ${needed}.`, 'Use a computer with a more capable GPU.');
  }
  checkTile(tile, candidates[0].scalar, capabilities);
  return tile;
}

/** The constraints linear-tile.wgsl's index arithmetic relies on. */
function checkTile(tile: TileShape, scalar: TileShape['scalar'], capabilities: LinearCapabilities): void {
  const threads = (tile.rows / tile.threadTile) * (tile.cols / tile.threadTile);
  const activationLoads = (tile.rows * tile.depth) / (scalar === 'u32' ? 16 : 1);
  const problems: [boolean, string][] = [
    [tile.scalar === scalar, `this variant stages ${scalar} tiles`],
    [tile.threadTile === 1 || tile.threadTile % 4 === 0, 'threadTile must be 1 or a multiple of 4'],
    [tile.rows % (4 * tile.threadTile) === 0 && tile.cols % (4 * tile.threadTile) === 0, 'rows and cols must be multiples of 4 * threadTile'],
    [tile.depth % 32 === 0 && tile.depth > 0, 'depth must be a positive multiple of 32'],
    [threads <= capabilities.maxComputeInvocationsPerWorkgroup, `${threads} threads exceed the workgroup limit`],
    [activationLoads % threads === 0, 'activation loads must split evenly over the threads'],
    [tile.swizzle < Math.min(tile.rows, tile.cols) / 4 && (tile.swizzle & (tile.swizzle + 1)) === 0, 'swizzle must be 2^n - 1 and below the slots per tile row'],
    [workgroupBytes(tile) <= capabilities.maxComputeWorkgroupStorageSize, 'the tiles exceed the workgroup memory'],
  ];
  const failed = problems.filter(([ok]) => !ok).map(([, message]) => message);
  if (failed.length > 0) throw invalidInput(`Tile shape ${JSON.stringify(tile)} is not usable: ${failed.join('; ')}.`, 'Choose another tile shape.');
}

// ---------------------------------------------------------------------------------------------
// WGSL modules

const source = (file: string, code: string): ShaderSource => ({ file: `shaders/${file}`, code });
const QUANT = source('quant.wgsl', quantWgsl);
const WEIGHT_PLANES = source('weight-planes.wgsl', weightPlanesWgsl);
const LINEAR = source('linear.wgsl', linearWgsl);
const TILE = source('linear-tile.wgsl', tileWgsl);
const TILED = source('linear-tiled.wgsl', tiledWgsl);
const INT8 = source('linear-int8.wgsl', int8Wgsl);
const GEMV = source('linear-gemv.wgsl', gemvWgsl);
const DIRECT = source('linear-direct.wgsl', directWgsl);

/** The constants linear-tile.wgsl expects, as a generated first chunk of the module. */
function tileConstants(tile: TileShape): ShaderSource {
  const rowsPerTile = tile.scalar === 'u32' ? tile.depth / 4 : tile.depth;
  const lines = [
    ...(tile.scalar === 'f16' ? ['enable f16;'] : []),
    `alias TileScalar = ${tile.scalar};`,
    `const BM = ${tile.rows}u;`,
    `const BN = ${tile.cols}u;`,
    `const BK = ${tile.depth}u;`,
    `const TILE_DEPTH = ${rowsPerTile}u;`,
    `const THREAD_TILE = ${tile.threadTile}u;`,
    `const SWIZZLE = ${tile.swizzle}u;`,
  ];
  return { file: `generated: linear tile ${tile.rows}x${tile.cols}x${tile.depth}/${tile.threadTile} ${tile.scalar}`, code: lines.join('\n') };
}

const ENABLE_SUBGROUPS: ShaderSource = { file: 'generated: enable subgroups', code: 'enable subgroups;' };

export function kernelSources(kernel: LinearKernel): { sources: ShaderSource[]; entryPoint: string } {
  switch (kernel.kind) {
    case 'tiled':
      return { sources: [tileConstants(kernel.tile), QUANT, WEIGHT_PLANES, LINEAR, TILE, TILED], entryPoint: 'linear_tiled' };
    case 'int8':
      return { sources: [tileConstants(kernel.tile), QUANT, WEIGHT_PLANES, LINEAR, TILE, INT8], entryPoint: 'linear_int8' };
    case 'gemv':
      return { sources: [ENABLE_SUBGROUPS, QUANT, WEIGHT_PLANES, LINEAR, GEMV], entryPoint: 'linear_gemv' };
    case 'direct':
      return { sources: [QUANT, WEIGHT_PLANES, LINEAR, DIRECT], entryPoint: 'linear_direct' };
  }
}

export function kernelName(kernel: LinearKernel, type: LinearWeightType): string {
  if (kernel.kind === 'gemv' || kernel.kind === 'direct') return `linear.${kernel.kind}.${type}`;
  const { rows, cols, depth, threadTile, scalar } = kernel.tile;
  return `linear.${kernel.kind}.${type}.${rows}x${cols}x${depth}/${threadTile}.${scalar}`;
}
