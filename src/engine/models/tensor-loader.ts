// Streams tensors out of a model file into their places on the GPU. Every tensor is seen as
// [rows, cols] (cols = the contiguous last dimension); a placement copies a block of rows and
// columns of one file tensor into a GpuWeight (matrices) or a host vector (1-D tensors, uploaded
// as f32 once loading is done). Placements express everything checkpoints differ in: fused
// projections split into parts, parts stacked into one tensor, halves swapped, a matrix split
// by columns. The file is read once, front to back, in chunks of whole rows.

import { invalidInput } from '../errors';
import { dequantize } from '../formats/ggml-blocks';
import { ggmlType, rowBytes } from '../formats/ggml-types';
import type { GpuRuntime } from '../gpu/runtime';
import type { GpuWeight } from '../ops/weights';
import type { ModelFile } from './model-file';

/** A 1-D f32 tensor assembled on the CPU from one or more file tensors. */
export class HostVector {
  readonly values: Float32Array;
  constructor(readonly label: string, length: number) {
    this.values = new Float32Array(length);
  }
}

export interface Placement {
  /** file tensor name */
  source: string;
  target: GpuWeight | HostVector;
  /** source rows [start, end) (a 1-D tensor is one row) */
  rows: readonly [number, number];
  /** source columns [start, end); must start on a block boundary for quantized types */
  cols: readonly [number, number];
  /** where the first placed row lands in a GpuWeight, or the first element in a HostVector */
  at: number;
}

export interface LoadProgress {
  /** bytes of the file's tensors read so far */
  loadedBytes: number;
  totalBytes: number;
}

/** Reads every placed tensor once and writes its blocks; returns when all are on the GPU. */
export async function loadPlacements(file: ModelFile, placements: readonly Placement[], onProgress?: (progress: LoadProgress) => void): Promise<void> {
  const bySource = new Map<string, Placement[]>();
  for (const placement of placements) bySource.set(placement.source, [...(bySource.get(placement.source) ?? []), placement]);
  const totalBytes = [...bySource.keys()].reduce((sum, name) => sum + file.tensor(name)!.byteLength, 0);
  let loadedBytes = 0;
  for await (const chunk of file.tensorChunks(bySource.keys())) {
    const firstRow = chunk.begin / chunk.tensor.rowBytes;
    const chunkRows = chunk.bytes.byteLength / chunk.tensor.rowBytes;
    const type = typeOf(file, chunk.tensor.name);
    for (const placement of bySource.get(chunk.tensor.name)!) place(placement, chunk.bytes, firstRow, chunkRows, chunk.tensor.rowBytes, type);
    loadedBytes += chunk.bytes.byteLength;
    onProgress?.({ loadedBytes, totalBytes });
  }
}

function typeOf(file: ModelFile, name: string) {
  const tensor = file.tensor(name)!;
  return 'type' in tensor ? tensor.type : ggmlType(tensor.dtype as 'F32' | 'F16' | 'BF16');
}

function place(placement: Placement, bytes: Uint8Array, firstRow: number, chunkRows: number, bytesPerRow: number, type: ReturnType<typeof ggmlType>): void {
  const from = Math.max(placement.rows[0], firstRow);
  const to = Math.min(placement.rows[1], firstRow + chunkRows);
  if (from >= to) return;
  const [colStart, colEnd] = placement.cols;
  if (colStart % type.blockElements !== 0 || colEnd % type.blockElements !== 0) {
    throw invalidInput(`Columns ${colStart}..${colEnd} of ${placement.source} do not fall on ${type.name} block boundaries.`, 'This model layout is not supported: please report it.');
  }
  const byteStart = rowBytes(type, colStart)!;
  const sliceBytes = rowBytes(type, colEnd - colStart)!;
  const rows = to - from;
  const block = new Uint8Array(rows * sliceBytes);
  for (let r = 0; r < rows; r++) {
    const rowStart = (from - firstRow + r) * bytesPerRow + byteStart;
    block.set(bytes.subarray(rowStart, rowStart + sliceBytes), r * sliceBytes);
  }
  const skipped = from - placement.rows[0];
  if (placement.target instanceof HostVector) {
    const elements = colEnd - colStart;
    placement.target.values.set(dequantize(type.name, block, rows * elements), placement.at + skipped * elements);
  } else {
    placement.target.writeRows(placement.at + skipped, block);
  }
}

/** Uploads host vectors as f32 storage buffers. */
export async function uploadHostVector(gpu: GpuRuntime, vector: HostVector): Promise<GPUBuffer> {
  return gpu.memory.uploadNew(vector.label, vector.values);
}
