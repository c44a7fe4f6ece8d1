// Rotary position embedding in place on q or k (shaders/rope.wgsl), from a table uploaded once
// per resolution (rope-table.ts).

import ropeWgsl from '../../../shaders/rope.wgsl';
import { invalidInput } from '../errors';
import type { Kernel } from '../gpu/kernels';
import type { Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { grid1d } from './grid';
import { params, u32 } from './params';
import type { RopeTable } from './rope-table';
import { type MatrixView, type VectorView } from './view';
import { checkDistinct, checkVector, checkView, requireCount } from './checks';

const SOURCE = { file: 'shaders/rope.wgsl', code: ropeWgsl };
const WORKGROUP = 256;

export interface GpuRopeTable {
  /** f32 [positions, pairs, 2] */
  buffer: GPUBuffer;
  positions: number;
  pairs: number;
}

export async function uploadRopeTable(gpu: GpuRuntime, label: string, table: RopeTable): Promise<GpuRopeTable> {
  return { buffer: await gpu.memory.uploadNew(label, table.values), positions: table.positions, pairs: table.pairs };
}

/** Which table row rotates each view row. */
export type RopePositions =
  /** row i uses table row i + tableOffset (a sequence at its own positions) */
  | { tableOffset: number }
  /** row i uses table row positions[i] (u32 [rows], each < table.positions): gathered rows re-encoded at other tokens' positions */
  | { positions: VectorView };

export interface RopeArgs {
  /** [rows, heads · 2·table.pairs], rotated in place, e.g. the q columns of a fused projection */
  view: MatrixView;
  rows: number;
  heads: number;
  table: GpuRopeTable;
  at: RopePositions;
}

export class RopeOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<RopeOp> {
    const kernel = await gpu.kernels.get({ name: 'rope', sources: [SOURCE], entryPoint: 'rope', storage: ['data', 'table', 'positions'], params: true });
    return new RopeOp(gpu, kernel);
  }

  record(rec: Recorder, { view, rows, heads, table, at }: RopeArgs): void {
    requireCount('rope rows', rows, 0);
    requireCount('rope heads', heads);
    checkView('rope view', view, rows, heads * 2 * table.pairs);
    const gathered = 'positions' in at;
    checkDistinct('rope view', view.buffer, gathered ? { 'rope table': table, 'rope positions': at.positions } : { 'rope table': table });
    if (gathered) checkVector('rope positions', at.positions, rows);
    else if (at.tableOffset + rows > table.positions) {
      throw invalidInput(`RoPE rows ${at.tableOffset}..${at.tableOffset + rows} run past the table's ${table.positions} positions.`, 'This is a bug in the app: please report it with this message.');
    }
    const grid = grid1d(rows * heads * table.pairs, WORKGROUP, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    const block = params(
      u32(rows), u32(heads), u32(table.pairs), u32(view.offset), u32(view.stride),
      u32(gathered ? 0 : at.tableOffset), u32(gathered ? 1 : 0), u32(gathered ? at.positions.offset : 0), u32(grid.rowStride),
    );
    // In sequential mode the kernel never reads `positions`; the table stands in for the binding.
    const positions = gathered ? at.positions.buffer : table.buffer;
    rec.dispatch(this.kernel, { data: view.buffer, table: table.buffer, positions }, block, grid.workgroups);
  }
}
