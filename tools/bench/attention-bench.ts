// Attention benchmarks: FLUX joint attention (queries over the image's own keys) and the
// CharaConsist case with extra keys from the identity image behind the group mask. Every
// AttentionOp configuration this adapter runs is timed against the plainest one it offers
// (small tiles, rows of 8 lanes, reductions through workgroup memory) in the same run.

import { EngineError } from '../../src/engine/errors';
import type { Recorder } from '../../src/engine/gpu/recorder';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { AttentionOp, type AttentionArgs, type AttentionOptions, type AttentionTile, type RowReduction } from '../../src/engine/ops/attention';
import { dense } from '../../src/engine/ops/view';
import { BenchBuffers } from './bench-buffers';
import { logged, skippedRow } from './case-rows';
import { outOfMemoryReason, shortfall } from './device-fit';
import type { BenchOptions } from './suite';
import type { BenchRow } from './table';
import { timeRecording } from './timing';

/** The suite measures this shape without extras, then with them (unless `extras` is 0). */
export interface AttentionShape {
  heads: number;
  /** a head size AttentionOp supports (FLUX: 128) */
  headDim: number;
  queries: number;
  /** own keys, seen by every query */
  keys: number;
  /** extra keys behind the group mask */
  extras: number;
}

type Configuration = Omit<AttentionOptions, 'headDim'> & { tile: AttentionTile; rowReduction: RowReduction; rowThreads: number };

/** The plainest configuration: rows of 8 lanes reduced through workgroup memory. */
const BASELINE: Configuration = { tile: 'small', rowReduction: 'workgroup', rowThreads: 8 };
/** What AttentionOp runs when given no options. */
const DEFAULT: Configuration = { tile: 'small', rowReduction: 'workgroup', rowThreads: 16 };
const GENERATED = { source: 'generated' } as const;
const CONFIGURATIONS: Configuration[] = [
  DEFAULT,
  { tile: 'small', rowReduction: 'subgroup', rowThreads: 16 },
  { tile: 'small', rowReduction: 'subgroup', rowThreads: 8 },
  { tile: 'small', rowReduction: 'workgroup', rowThreads: 32 },
  { tile: 'large', rowReduction: 'workgroup', rowThreads: 8 },
  { tile: 'large', rowReduction: 'subgroup', rowThreads: 8 },
  // The generated kernel (registers unrolled): the default's shape, then larger query tiles and
  // other q/k/v staging.
  { ...GENERATED, ...DEFAULT },
  { ...GENERATED, ...DEFAULT, prefetch: true },
  { ...GENERATED, ...DEFAULT, prefetch: true, dimChunk: 64 },
  { ...GENERATED, tile: 'wide', rowReduction: 'workgroup', rowThreads: 16, prefetch: true },
  { ...GENERATED, tile: 'wide', rowReduction: 'subgroup', rowThreads: 16, prefetch: true },
  { ...GENERATED, tile: 'deep', rowReduction: 'workgroup', rowThreads: 16, prefetch: true },
  { ...GENERATED, tile: 'large', rowReduction: 'workgroup', rowThreads: 16, prefetch: true },
  { ...GENERATED, tile: 'large', rowReduction: 'subgroup', rowThreads: 16, prefetch: true },
  // f16 operands in workgroup memory (adapters with shader-f16)
  { ...GENERATED, ...DEFAULT, prefetch: true, operands: 'f16' },
  { ...GENERATED, tile: 'wide', rowReduction: 'workgroup', rowThreads: 16, prefetch: true, operands: 'f16' },
  { ...GENERATED, tile: 'large', rowReduction: 'workgroup', rowThreads: 16, prefetch: true, operands: 'f16', dimChunk: 64 },
];
/** Queries per workgroup of the small tile (the large tile has more, so fewer workgroups). */
const SMALLEST_QUERY_TILE = 32;

/**
 * The group mask of the grouped case: the first ⌊queries/2⌋ queries are foreground, the rest
 * background; the extras are stored [background ⌊extras/2⌋, foreground rest], each label's
 * range contiguous as AttentionOp requires.
 */
export function groupSplit(queries: number, extras: number) {
  const foregroundQueries = Math.floor(queries / 2);
  const backgroundExtras = Math.floor(extras / 2);
  return { foregroundQueries, backgroundQueries: queries - foregroundQueries, backgroundExtras, foregroundExtras: extras - backgroundExtras };
}

export function attentionCaseName({ heads, headDim, queries, keys, extras }: AttentionShape): string {
  const seen = extras ? `${keys} + ${extras} extra keys, fg/bg halves` : `${keys} keys`;
  return `attention ${heads}x${headDim} ${queries} queries over ${seen}`;
}

/** 4·D·H operations per (query, key it sees); bytes: q, own and extra k and v, out in f32. */
export function attentionCost({ heads, headDim, queries, keys, extras }: AttentionShape): { flops: number; bytes: number } {
  const split = groupSplit(queries, extras);
  const seenPairs = split.foregroundQueries * (keys + split.foregroundExtras) + split.backgroundQueries * (keys + split.backgroundExtras);
  return { flops: 4 * seenPairs * headDim * heads, bytes: 4 * heads * headDim * (2 * queries + 2 * (keys + extras)) };
}

export async function benchAttention(gpu: GpuRuntime, options: BenchOptions, shape: AttentionShape): Promise<BenchRow[]> {
  const baseline = await AttentionOp.create(gpu, { headDim: shape.headDim, ...BASELINE });
  const configurations = await createConfigurations(gpu, shape.headDim, options.log);
  const cases = [{ ...shape, extras: 0 }, ...(shape.extras ? [shape] : [])];
  const rows: BenchRow[] = [];
  for (const [index, attention] of cases.entries()) rows.push(...(await benchCase(gpu, options, baseline, configurations, attention, 1000 + index)));
  return rows;
}

async function createConfigurations(gpu: GpuRuntime, headDim: number, log: (line: string) => void): Promise<{ label: string; op: AttentionOp }[]> {
  const created: { label: string; op: AttentionOp }[] = [];
  for (const configuration of CONFIGURATIONS) {
    try {
      created.push({ label: describe(configuration), op: await AttentionOp.create(gpu, { headDim, ...configuration }) });
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      log(`attention ${describe(configuration)} not measured on this adapter: ${error.message}`);
    }
  }
  return created;
}

async function benchCase(
  gpu: GpuRuntime,
  options: BenchOptions,
  baseline: AttentionOp,
  configurations: { label: string; op: AttentionOp }[],
  attention: AttentionShape,
  seed: number,
): Promise<BenchRow[]> {
  const row = { group: 'attention', name: attentionCaseName(attention), ...attentionCost(attention) };
  const reason = shortfall(gpu.limits, needs(attention));
  if (reason) return [logged(options.log, skippedRow(row, reason))];
  const buffers = new BenchBuffers(gpu, seed);
  try {
    let args: AttentionArgs;
    try {
      args = await allocate(gpu, buffers, baseline, attention);
    } catch (error) {
      return [logged(options.log, skippedRow(row, outOfMemoryReason(error)))];
    }
    const time = async (op: AttentionOp) => (await timeRecording(gpu, row.name, (rec) => op.record(rec, args), options.timing)).medianMs;
    const measured = [logged(options.log, { ...row, kernel: `baseline (${describe(BASELINE)})`, ms: await time(baseline) })];
    const baselineTime = { kernel: 'baseline', ms: measured[0].ms };
    for (const { label, op } of configurations) measured.push(logged(options.log, { ...row, kernel: label, ms: await time(op), baseline: baselineTime }));
    return measured;
  } finally {
    buffers.releaseAll();
  }
}

function needs({ heads, headDim, queries, keys, extras }: AttentionShape) {
  const bytes = (rows: number) => 4 * rows * heads * headDim;
  return {
    bindings: [
      { what: `q [${queries}, ${heads}x${headDim}]`, bytes: bytes(queries) },
      { what: `k or v [${keys}, ${heads}x${headDim}]`, bytes: bytes(keys) },
      { what: `extra k or v [${extras}, ${heads}x${headDim}]`, bytes: bytes(extras) },
      { what: 'query groups', bytes: AttentionOp.queryGroupsBytes(queries) },
    ],
    workgroups: [
      { what: 'query tiles', count: Math.ceil(queries / SMALLEST_QUERY_TILE) },
      { what: 'heads', count: heads },
    ],
  };
}

/** Random q, k, v (and extras with their grouped queries, recorded once as a frame does per step). */
async function allocate(gpu: GpuRuntime, buffers: BenchBuffers, grouping: AttentionOp, attention: AttentionShape): Promise<AttentionArgs> {
  const { heads, headDim, queries, keys, extras } = attention;
  const width = heads * headDim;
  const matrix = async (label: string, rows: number) => dense(await buffers.randomMatrix(`${label} [${rows}, ${width}]`, rows, width), width);
  const args: AttentionArgs = {
    queries: await matrix('q', queries),
    keys: await matrix('k', keys),
    values: await matrix('v', keys),
    output: dense(await buffers.output(`out [${queries}, ${width}]`, 4 * queries * width), width),
    queryCount: queries,
    keyCount: keys,
    heads,
  };
  if (!extras) return args;
  const split = groupSplit(queries, extras);
  const labels = new Uint32Array(queries).fill(2, split.foregroundQueries).fill(1, 0, split.foregroundQueries);
  const queryGroups = await buffers.output('query groups', AttentionOp.queryGroupsBytes(queries));
  const labelBuffer = await buffers.upload('query labels', labels);
  await submit(gpu, 'group queries', (rec) => grouping.recordQueryGroups(rec, { buffer: labelBuffer, offset: 0 }, queries, queryGroups));
  args.extras = {
    keys: await matrix('extra k', extras),
    values: await matrix('extra v', extras),
    background: { start: 0, count: split.backgroundExtras },
    foreground: { start: split.backgroundExtras, count: split.foregroundExtras },
    queryGroups,
  };
  return args;
}

async function submit(gpu: GpuRuntime, label: string, record: (rec: Recorder) => void): Promise<void> {
  const rec = gpu.recorder(label);
  record(rec);
  await rec.submit();
}

function describe(configuration: Configuration): string {
  const { tile, rowReduction, rowThreads, source, dimChunk, prefetch, operands } = configuration;
  const generated = source === 'generated' ? [`${dimChunk ?? 32} dims per chunk`, ...(prefetch ? ['prefetch'] : []), `${operands ?? 'f32'} operands`] : [];
  return `${configuration === DEFAULT ? 'default: ' : ''}${source === 'generated' ? 'generated, ' : ''}${[`${tile} tile`, `rows of ${rowThreads}`, `${rowReduction} reductions`, ...generated].join(', ')}`;
}
