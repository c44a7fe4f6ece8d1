// Linear layers: Y[M, N] = X[M, K] · W[N, K]^T (+ bias), then an epilogue (an activation, or a
// combination with Y's previous contents), with W in any LinearWeightType (ops/weights.ts) and f32
// accumulation. One op per (weight type, variant) serves every layer of that type: weights,
// views, bias and epilogue are given per call. Kernels: linear-config.ts and shaders/linear*.wgsl.

import { invalidInput } from '../errors';
import type { Kernel } from '../gpu/kernels';
import type { Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { ScratchBuffer } from '../gpu/scratch-buffer';
import { grid1d } from './grid';
import { FEW_ROWS, kernelName, kernelSources, planLinear, type LinearKernel, type LinearPlan, type LinearVariant, type TileShape } from './linear-config';
import { params, u32 } from './params';
import { isQuantized, QuantizeActivationsOp, quantizedActivationsLayout, quantizedStart, type QuantizedActivations } from './quantize-activations';
import { columns, vectorBinding, viewBinding, type MatrixView, type VectorView, type ViewBinding } from './view';
import { WEIGHT_TYPE_CODES, type GpuWeight, type LinearWeightType } from './weights';

export type LinearEpilogue =
  | { kind: 'none' }
  | { kind: 'gelu-tanh' }
  /** x · sigmoid(1.702 x) (CLIP's MLP) */
  | { kind: 'quick-gelu' }
  /** Y[m, n] += gate[n] · (X W^T + b)[m, n]; Y is read as the residual. */
  | { kind: 'gated-residual'; gate: VectorView }
  /** Y[m, n] += (X W^T + b)[m, n]; Y is read as the residual. */
  | { kind: 'residual' }
  /** Y[m, n] *= (X W^T + b)[m, n]; Y holds the other factor (T5's gated GELU). */
  | { kind: 'multiply' };

/** Epilogue codes of shaders/linear.wgsl. */
const EPILOGUE_CODES: Record<LinearEpilogue['kind'], number> = { none: 0, 'gelu-tanh': 1, 'gated-residual': 2, residual: 3, multiply: 4, 'quick-gelu': 5 };

export interface LinearOptions {
  type: LinearWeightType;
  /** Default 'auto' (exact f32 activations). */
  variant?: LinearVariant;
  /** Replaces the tile shape of a tiled variant (tuning runs). */
  tile?: TileShape;
}

export interface LinearCall {
  /**
   * X [rows, K] in f32; or, for an int8 kernel, X already quantized (e.g. once for q, k and v of
   * the same normalised rows), which it then reads instead of quantizing X itself.
   */
  x: MatrixView | QuantizedActivations;
  /** W [N, K] */
  weight: GpuWeight;
  /** Y [rows, N]; also read by the residual and multiply epilogues */
  y: MatrixView;
  /** M >= 0 */
  rows: number;
  /** b [N] */
  bias?: VectorView;
  /** default none */
  epilogue?: LinearEpilogue;
}

interface CompiledKernel {
  kernel: LinearKernel;
  pipeline: Kernel;
}

/** Threads per workgroup and rows per thread of shaders/linear-direct.wgsl. */
const DIRECT_THREADS = 64;
const DIRECT_ROWS = 4;

// Binding names in @binding order (shaders/linear.wgsl); binding 4 holds X or its int8 copy.
const STORAGE = ['y', 'bias', 'gate', 'weights', 'x'];

export class LinearOp {
  /** int8 variant: the quantized copy of X, grown on demand. */
  private readonly quantizedX: ScratchBuffer;

  private constructor(
    private readonly gpu: GpuRuntime,
    readonly type: LinearWeightType,
    readonly plan: LinearPlan,
    private readonly main: CompiledKernel,
    private readonly fewRows: CompiledKernel | undefined,
    private readonly quantizer: QuantizeActivationsOp | undefined,
  ) {
    this.quantizedX = new ScratchBuffer(gpu, 'linear int8 activations');
  }

  static async create(gpu: GpuRuntime, options: LinearOptions): Promise<LinearOp> {
    const capabilities = { ...gpu.limits, features: gpu.features, wgslLanguageFeatures: gpu.report.wgslLanguageFeatures, software: gpu.report.isSoftware };
    const plan = planLinear(options.variant ?? 'auto', options.type, capabilities, options.tile);
    const compile = async (kernel: LinearKernel): Promise<CompiledKernel> => {
      const { sources, entryPoint } = kernelSources(kernel);
      const pipeline = await gpu.kernels.get({ name: kernelName(kernel, options.type), sources, entryPoint, constants: { WEIGHT_TYPE: WEIGHT_TYPE_CODES[options.type] }, storage: STORAGE, params: true });
      return { kernel, pipeline };
    };
    const [main, fewRows, quantizer] = await Promise.all([
      compile(plan.main),
      plan.fewRows && compile(plan.fewRows),
      plan.main.kind === 'int8' ? QuantizeActivationsOp.create(gpu) : undefined,
    ]);
    return new LinearOp(gpu, options.type, plan, main, fewRows, quantizer);
  }

  /** Frees the int8 variant's copy of X (the op stays usable). */
  release(): void {
    this.quantizedX.release();
  }

  /** The kernel a call with `rows` rows runs. */
  kernelFor(rows: number): LinearKernel {
    return this.choose(rows).kernel;
  }

  record(rec: Recorder, call: LinearCall): void {
    this.check(call);
    if (call.rows === 0) return;
    const { pipeline, kernel } = this.choose(call.rows);
    const alignment = this.gpu.limits.minStorageBufferOffsetAlignment;
    const epilogue = call.epilogue ?? { kind: 'none' };
    const gate = epilogue.kind === 'gated-residual' ? epilogue.gate : undefined;
    const x = this.activations(rec, call, kernel);
    const xStride = isQuantized(call.x) ? 0 : call.x.stride;
    // int8: the quants of row 0 start at byte x.offset, its scales at word activationScalesBase.
    const activationScalesBase = kernel.kind !== 'int8' ? 0 : isQuantized(call.x) ? quantizedStart(call.x).scalesWord : quantizedActivationsLayout(call.rows, call.weight.cols).scalesBase;
    // Each part of W produces its own columns of Y (and reads its slice of bias and gate).
    for (const { firstRow, layout, buffer: weights } of call.weight.parts) {
      const y = viewBinding(columns(call.y, firstRow), call.rows, layout.rows, alignment);
      const bias = call.bias && vectorBinding({ buffer: call.bias.buffer, offset: call.bias.offset + firstRow }, layout.rows, alignment);
      const gateWindow = gate && vectorBinding({ buffer: gate.buffer, offset: gate.offset + firstRow }, layout.rows, alignment);
      const { workgroups, gridStride, tilesM, tilesN } = this.grid(kernel, call.rows, layout.rows);
      const block = params(
        u32(call.rows), u32(layout.rows), u32(layout.cols),
        u32(x.offset), u32(xStride), u32(y.offset), u32(call.y.stride),
        u32(bias ? 1 : 0), u32(bias?.offset ?? 0), u32(EPILOGUE_CODES[epilogue.kind]), u32(gateWindow?.offset ?? 0),
        u32(layout.rowWords), u32(layout.highBitsBase), u32(layout.scalesBase), u32(layout.scaleRowWords), u32(layout.groupsPerRow),
        u32(tilesM), u32(tilesN), u32(gridStride), u32(activationScalesBase),
      );
      // Unused vector inputs are bound to the (read-only) weights so every binding is valid.
      const bindings = { y: y.binding, bias: bias?.binding ?? weights, gate: gateWindow?.binding ?? weights, weights, x: x.binding };
      rec.dispatch(pipeline, bindings, block, workgroups);
    }
  }

  private choose(rows: number): CompiledKernel {
    return rows <= FEW_ROWS && this.fewRows ? this.fewRows : this.main;
  }

  private grid(kernel: LinearKernel, rows: number, cols: number) {
    const max = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (kernel.kind === 'gemv') {
      const grid = grid1d(cols, 1, max);
      return { workgroups: grid.workgroups, gridStride: grid.rowStride, tilesM: 0, tilesN: 0 };
    }
    if (kernel.kind === 'direct') {
      const grid = grid1d(Math.ceil(rows / DIRECT_ROWS) * cols, DIRECT_THREADS, max);
      return { workgroups: grid.workgroups, gridStride: grid.rowStride, tilesM: 0, tilesN: 0 };
    }
    const tilesM = Math.ceil(rows / kernel.tile.rows);
    const tilesN = Math.ceil(cols / kernel.tile.cols);
    const grid = grid1d(tilesM * tilesN, 1, max);
    return { workgroups: grid.workgroups, gridStride: grid.rowStride, tilesM, tilesN };
  }

  /** The binding of X for `kernel`: the f32 view, or int8 quants (given, or recorded now into the scratch buffer). */
  private activations(rec: Recorder, call: LinearCall, kernel: LinearKernel): ViewBinding {
    if (isQuantized(call.x)) {
      const { layoutRows, cols } = call.x;
      return { binding: { buffer: call.x.buffer, size: 4 * quantizedActivationsLayout(layoutRows, cols).totalWords }, offset: quantizedStart(call.x).quantsByte };
    }
    if (kernel.kind !== 'int8') return viewBinding(call.x, call.rows, call.weight.cols, this.gpu.limits.minStorageBufferOffsetAlignment);
    const bytes = 4 * quantizedActivationsLayout(call.rows, call.weight.cols).totalWords;
    const scratch = this.quantizedX.get(rec, bytes);
    this.quantizer!.record(rec, call.x, call.rows, call.weight.cols, scratch);
    return { binding: { buffer: scratch, size: bytes }, offset: 0 };
  }

  private check(call: LinearCall): void {
    const { rows: n, cols: k, type } = call.weight;
    const fail = (problem: string) => {
      throw invalidInput(`Linear layer with ${type} weights [${n}, ${k}] and ${call.rows} rows: ${problem}.`, 'This is a bug in the app: please report it with this message.');
    };
    if (type !== this.type) fail(`this op was created for ${this.type} weights`);
    if (!Number.isInteger(call.rows) || call.rows < 0) fail('the row count must be a non-negative integer');
    if (!isQuantized(call.x)) checkView(call.x, call.rows, k, 'X', fail);
    else if (this.plan.main.kind !== 'int8') fail('quantized activations need the int8 variant');
    else if (call.x.rows !== call.rows || call.x.cols !== k || call.x.buffer.size < 4 * quantizedActivationsLayout(call.x.layoutRows, k).totalWords) fail(`the quantized activations hold [${call.x.rows}, ${call.x.cols}]`);
    checkView(call.y, call.rows, n, 'Y', fail);
    if (call.bias) checkVector(call.bias, n, 'bias', fail);
    if (call.epilogue?.kind === 'gated-residual') checkVector(call.epilogue.gate, n, 'gate', fail);
  }
}

function checkView(view: MatrixView, rows: number, cols: number, name: string, fail: (problem: string) => void): void {
  const elements = view.buffer.size / 4;
  if (view.stride < cols || view.offset < 0 || !Number.isInteger(view.offset) || !Number.isInteger(view.stride)) fail(`${name} has stride ${view.stride} for ${cols} columns`);
  if (rows > 0 && view.offset + (rows - 1) * view.stride + cols > elements) fail(`${name} [${rows}, ${cols}] at offset ${view.offset}, stride ${view.stride} runs past its buffer of ${elements} elements`);
}

function checkVector(vector: VectorView, length: number, name: string, fail: (problem: string) => void): void {
  if (vector.offset < 0 || vector.offset + length > vector.buffer.size / 4) fail(`${name} [${length}] at offset ${vector.offset} runs past its buffer`);
}
