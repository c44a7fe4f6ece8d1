// Linear layer benchmarks: Y[M, N] = X[M, K] · W[N, K]^T for each weight type, timing every
// LinearOp variant this adapter offers against the 'baseline' variant (plain 16x16
// shared-memory tiles, one output per thread) in the same run, on the same buffers.

import { EngineError } from '../../src/engine/errors';
import { ggmlType, rowBytes } from '../../src/engine/formats/ggml-types';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { LinearOp, type LinearCall } from '../../src/engine/ops/linear';
import { FEW_ROWS, kernelName, type LinearKernel, type LinearVariant } from '../../src/engine/ops/linear-config';
import { quantizedActivationsLayout } from '../../src/engine/ops/quantize-activations';
import { dense } from '../../src/engine/ops/view';
import { isBlockQuantized, type LinearWeightType } from '../../src/engine/ops/weights';
import { BenchBuffers } from './bench-buffers';
import { logged, skippedRow } from './case-rows';
import { outOfMemoryReason, shortfall } from './device-fit';
import type { BenchOptions } from './suite';
import type { BenchRow } from './table';
import { timeRecording } from './timing';

export interface LinearShapes {
  /** M: token counts */
  tokens: number[];
  /** inputs = K (a multiple of 32), outputs = N: W [N, K] */
  layers: { inputs: number; outputs: number }[];
  types: LinearWeightType[];
}

export interface LinearCase {
  type: LinearWeightType;
  /** M */
  rows: number;
  /** K */
  inputs: number;
  /** N */
  outputs: number;
}

/** Variants compared with the baseline; the ones that run the same kernel at some M share a row. */
const VARIANTS: LinearVariant[] = ['auto', 'f32', 'direct', 'subgroups', 'int8', 'f16'];

interface TypeOps {
  baseline: LinearOp;
  variants: { variant: LinearVariant; op: LinearOp }[];
}

export function linearCaseName({ type, rows, inputs, outputs }: LinearCase): string {
  return `linear ${type.toLowerCase()} M=${rows} K=${inputs} N=${outputs}`;
}

/** 2·M·N·K operations; bytes: W at its stored (GGUF) size, X and Y in f32. */
export function linearCost({ type, rows, inputs, outputs }: LinearCase): { flops: number; bytes: number } {
  return { flops: 2 * rows * outputs * inputs, bytes: rowBytes(ggmlType(type), inputs)! * outputs + 4 * rows * (inputs + outputs) };
}

export async function benchLinear(gpu: GpuRuntime, options: BenchOptions, shapes: LinearShapes): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const opsByType = new Map<LinearWeightType, TypeOps>();
  for (const type of shapes.types) opsByType.set(type, await createOps(gpu, type, options.log));
  let seed = 1;
  for (const { inputs, outputs } of shapes.layers) {
    for (const type of shapes.types) {
      for (const tokens of shapes.tokens) {
        rows.push(...(await benchCase(gpu, options, opsByType.get(type)!, { type, rows: tokens, inputs, outputs }, seed++)));
      }
    }
  }
  return rows;
}

/** The ops of every variant this adapter runs for `type`; the others are logged and left out. */
async function createOps(gpu: GpuRuntime, type: LinearWeightType, log: (line: string) => void): Promise<TypeOps> {
  const baseline = await LinearOp.create(gpu, { type, variant: 'baseline' });
  const variants: TypeOps['variants'] = [];
  for (const variant of VARIANTS) {
    if (variant === 'int8' && !isBlockQuantized(type)) continue;
    try {
      variants.push({ variant, op: await LinearOp.create(gpu, { type, variant }) });
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      log(`linear ${type} '${variant}' not measured on this adapter: ${error.message}`);
    }
  }
  return { baseline, variants };
}

async function benchCase(gpu: GpuRuntime, options: BenchOptions, ops: TypeOps, linear: LinearCase, seed: number): Promise<BenchRow[]> {
  const row = { group: 'linear', name: linearCaseName(linear), ...linearCost(linear) };
  const reason = shortfall(gpu.limits, { bindings: bindingsOf(linear, ops) });
  if (reason) return [logged(options.log, skippedRow(row, reason))];
  const buffers = new BenchBuffers(gpu, seed);
  try {
    let call: LinearCall;
    try {
      call = await allocate(buffers, linear);
    } catch (error) {
      return [logged(options.log, skippedRow(row, outOfMemoryReason(error)))];
    }
    const time = async (op: LinearOp) => (await timeRecording(gpu, row.name, (rec) => op.record(rec, call), options.timing)).medianMs;
    const baselineKernel = `baseline (${describeKernel(ops.baseline.kernelFor(linear.rows))})`;
    const measured = [logged(options.log, { ...row, kernel: baselineKernel, ms: await time(ops.baseline) })];
    const baseline = { kernel: 'baseline', ms: measured[0].ms };
    for (const { label, op } of distinctKernels(ops, linear)) measured.push(logged(options.log, { ...row, kernel: label, ms: await time(op), baseline }));
    return measured;
  } finally {
    buffers.releaseAll();
  }
}

/** Buffers bound whole by one dispatch (the weight is split into parts by GpuWeight itself). */
function bindingsOf({ rows, inputs, outputs }: LinearCase, ops: TypeOps) {
  const int8 = ops.variants.some(({ variant }) => variant === 'int8');
  return [
    { what: `X [${rows}, ${inputs}] f32`, bytes: 4 * rows * inputs },
    { what: `Y [${rows}, ${outputs}] f32`, bytes: 4 * rows * outputs },
    ...(int8 ? [{ what: `the int8 copy of X [${rows}, ${inputs}]`, bytes: 4 * quantizedActivationsLayout(rows, inputs).totalWords }] : []),
  ];
}

async function allocate(buffers: BenchBuffers, { type, rows, inputs, outputs }: LinearCase): Promise<LinearCall> {
  const x = await buffers.randomMatrix(`X [${rows}, ${inputs}]`, rows, inputs);
  // |W| ~ 1/sqrt(K) keeps Y near unit size, as in a trained layer.
  const weight = await buffers.weight(`W [${outputs}, ${inputs}] ${type}`, type, outputs, inputs, 1 / Math.sqrt(inputs));
  const y = await buffers.output(`Y [${rows}, ${outputs}]`, 4 * rows * outputs);
  return { x: dense(x, inputs), weight, y: dense(y, outputs), rows };
}

/**
 * The variants that run at this M, one entry per distinct kernel ('auto' runs the kernel of
 * another variant, which depends on M and the adapter). 'subgroups' (a workgroup per output
 * column) only makes sense for a few rows.
 */
function distinctKernels(ops: TypeOps, { type, rows }: LinearCase): { label: string; op: LinearOp }[] {
  const byKernel = new Map<string, { variants: LinearVariant[]; kernel: LinearKernel; op: LinearOp }>();
  for (const { variant, op } of ops.variants) {
    if (variant === 'subgroups' && rows > FEW_ROWS) continue;
    const kernel = op.kernelFor(rows);
    const key = kernelName(kernel, type);
    const entry = byKernel.get(key);
    if (entry) entry.variants.push(variant);
    else byKernel.set(key, { variants: [variant], kernel, op });
  }
  return [...byKernel.values()].map(({ variants, kernel, op }) => ({ label: `${variants.join('=')} (${describeKernel(kernel)})`, op }));
}

function describeKernel(kernel: LinearKernel): string {
  if (kernel.kind === 'gemv') return 'subgroup gemv';
  if (kernel.kind === 'direct') return 'direct';
  const { rows, cols, depth, threadTile, scalar } = kernel.tile;
  return `${kernel.kind} ${rows}x${cols}x${depth}/${threadTile} ${scalar}`;
}
