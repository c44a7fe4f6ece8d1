// Weight matrices W[N, K] on the GPU (N = output features = rows, K = input features), in the
// layout the linear kernels read (shaders/quant.wgsl, shaders/linear.wgsl). GGUF stores each row
// as a run of blocks along K; 18/22/34-byte blocks are not 4-byte aligned, so rows are repacked at
// load time into aligned planes inside one buffer (all offsets in u32 words):
//   values     [N, rowWords]        quants of each block (4 words; Q8_0: 8), or the f32/f16/bf16
//                                   values of the row padded with zeros to a multiple of 32
//   highBits   [N, K/32] at highBitsBase    Q5 types: the qh word of each block
//   scales     [N, scaleRowWords] at scalesBase   f16 d per block (two per word, each row starting
//                                   on a word), or the (d, m) f16 pair of the _1 types
// Rows arrive in chunks (the loader streams multi-GB files), so each chunk is repacked and
// written on its own: GpuWeight.create(...) then writeRows(firstRow, bytes) as often as needed.
// A matrix larger than one storage binding is split by rows into parts, each its own buffer.

import { invalidInput } from '../errors';
import { dequantize } from '../formats/ggml-blocks';
import { ggmlType, rowBytes, type GgmlTypeName } from '../formats/ggml-types';
import type { GpuRuntime } from '../gpu/runtime';
import randomWgsl from '../../../shaders/weights-random.wgsl';
import { grid1d } from './grid';
import { f32, params, u32 } from './params';

/** Weight types the linear kernels compute on. */
export type LinearWeightType = 'F32' | 'F16' | 'BF16' | 'Q8_0' | 'Q4_0' | 'Q4_1' | 'Q5_0' | 'Q5_1';

/** Placement of one 32-column block of a row in the planes. */
interface BlockPlanes {
  /** value words per 32 columns */
  valueWords: number;
  /** f16 scale values per block (d, or d and m); 0 for float types */
  scaleHalves: number;
  /** byte offsets of the fields inside a file block (quantized types) */
  fields?: { quantsAt: number; quantBytes: number; highBitsAt?: number };
}

const PLANES: Record<LinearWeightType, BlockPlanes> = {
  F32: { valueWords: 32, scaleHalves: 0 },
  F16: { valueWords: 16, scaleHalves: 0 },
  BF16: { valueWords: 16, scaleHalves: 0 },
  Q8_0: { valueWords: 8, scaleHalves: 1, fields: { quantsAt: 2, quantBytes: 32 } },
  Q4_0: { valueWords: 4, scaleHalves: 1, fields: { quantsAt: 2, quantBytes: 16 } },
  Q4_1: { valueWords: 4, scaleHalves: 2, fields: { quantsAt: 4, quantBytes: 16 } },
  Q5_0: { valueWords: 4, scaleHalves: 1, fields: { quantsAt: 6, quantBytes: 16, highBitsAt: 2 } },
  Q5_1: { valueWords: 4, scaleHalves: 2, fields: { quantsAt: 8, quantBytes: 16, highBitsAt: 4 } },
};

/** Weight type codes of shaders/quant.wgsl (the WEIGHT_TYPE override of the kernels that read weights). */
export const WEIGHT_TYPE_CODES: Record<LinearWeightType, number> = { F32: 0, F16: 1, BF16: 2, Q8_0: 3, Q4_0: 4, Q4_1: 5, Q5_0: 6, Q5_1: 7 };

export function isLinearWeightType(type: GgmlTypeName): type is LinearWeightType {
  return type in PLANES;
}

export function isBlockQuantized(type: LinearWeightType): boolean {
  return PLANES[type].fields !== undefined;
}

export interface WeightLayout {
  type: LinearWeightType;
  rows: number;
  cols: number;
  /** words per row of the values plane */
  rowWords: number;
  /** 8-weight groups per row (the kernels' unit; padded columns / 8) */
  groupsPerRow: number;
  highBitsBase: number;
  /** words per row of the high-bits plane (0 without one) */
  highBitsRowWords: number;
  scalesBase: number;
  scaleRowWords: number;
  totalWords: number;
}

const roundUp = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;

export function weightLayout(type: LinearWeightType, rows: number, cols: number): WeightLayout {
  const planes = PLANES[type];
  const blocks = Math.ceil(cols / 32);
  const rowWords = blocks * planes.valueWords;
  // Plane bases on 4-word boundaries so the kernels can read whole vec4s.
  const highBitsBase = roundUp(rows * rowWords, 4);
  const highBitsRowWords = planes.fields?.highBitsAt === undefined ? 0 : blocks;
  const scalesBase = roundUp(highBitsBase + rows * highBitsRowWords, 4);
  const scaleRowWords = Math.ceil((blocks * planes.scaleHalves) / 2);
  // The kernels bind the buffer as array<vec4<u32>>, which ignores a trailing partial vec4.
  const totalWords = roundUp(scalesBase + rows * scaleRowWords, 4);
  return { type, rows, cols, rowWords, groupsPerRow: 4 * blocks, highBitsBase, highBitsRowWords, scalesBase, scaleRowWords, totalWords };
}

/** Rows [firstRow, firstRow + layout.rows) of a weight, in one buffer. */
export interface WeightPart {
  firstRow: number;
  buffer: GPUBuffer;
  layout: WeightLayout;
}

/** A weight matrix W[rows, cols] in GPU memory (see the layout above). */
export class GpuWeight {
  private constructor(
    private readonly gpu: GpuRuntime,
    readonly type: LinearWeightType,
    readonly rows: number,
    readonly cols: number,
    readonly parts: readonly WeightPart[],
  ) {}

  /**
   * Allocates an all-zero weight; fill it with writeRows. Parts hold at most `maxPartBytes`
   * (default: the device's storage binding limit).
   */
  static async create(gpu: GpuRuntime, label: string, type: GgmlTypeName, rows: number, cols: number, maxPartBytes = gpu.limits.maxStorageBufferBindingSize): Promise<GpuWeight> {
    if (!isLinearWeightType(type)) {
      throw invalidInput(`Weight "${label}" is ${type}; the linear kernels compute on F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1.`, 'Use a model file quantized to one of these types.');
    }
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || rowBytes(ggmlType(type), cols) === undefined) {
      throw invalidInput(`Weight "${label}" has shape [${rows}, ${cols}], which is not valid for ${type} (rows must be whole blocks of ${ggmlType(type).blockElements}).`, 'The model file is damaged or not a supported model: use an unmodified file.');
    }
    const rowsPerPart = rowsFitting(type, cols, maxPartBytes);
    if (rowsPerPart < 1) throw invalidInput(`One row of weight "${label}" (${cols} columns of ${type}) exceeds ${maxPartBytes} bytes.`, 'Use a computer with a more capable GPU.');
    const parts: WeightPart[] = [];
    for (let firstRow = 0; firstRow < rows; firstRow += rowsPerPart) {
      const layout = weightLayout(type, Math.min(rowsPerPart, rows - firstRow), cols);
      const partLabel = rows > rowsPerPart ? `${label} rows ${firstRow}..${firstRow + layout.rows - 1}` : label;
      parts.push({ firstRow, layout, buffer: await gpu.memory.allocate(partLabel, layout.totalWords * 4) });
    }
    return new GpuWeight(gpu, type, rows, cols, parts);
  }

  /** create + writeRows of the whole tensor. */
  static async upload(gpu: GpuRuntime, label: string, type: GgmlTypeName, rows: number, cols: number, bytes: Uint8Array, maxPartBytes?: number): Promise<GpuWeight> {
    const weight = await GpuWeight.create(gpu, label, type, rows, cols, maxPartBytes);
    weight.writeRows(0, bytes);
    return weight;
  }

  /** Writes whole rows firstRow.. from `bytes`, laid out as in the GGUF file. */
  writeRows(firstRow: number, bytes: Uint8Array): void {
    const bytesPerRow = rowBytes(ggmlType(this.type), this.cols)!;
    const count = bytes.byteLength / bytesPerRow;
    if (!Number.isInteger(count) || !Number.isInteger(firstRow) || firstRow < 0 || firstRow + count > this.rows) {
      throw invalidInput(
        `${bytes.byteLength} bytes at row ${firstRow} are not whole rows of "${this.parts[0].buffer.label}" (${this.rows} rows of ${bytesPerRow} bytes).`,
        'The model file is truncated or damaged: download it again.',
      );
    }
    for (const part of this.parts) {
      const from = Math.max(firstRow, part.firstRow);
      const to = Math.min(firstRow + count, part.firstRow + part.layout.rows);
      if (from < to) writePartRows(this.gpu, part, from - part.firstRow, bytes.subarray((from - firstRow) * bytesPerRow, (to - firstRow) * bytesPerRow));
    }
  }

  /**
   * Fills the weight with random values of about `magnitude` on the GPU (benchmarks of full-size
   * models without their files): no CPU work, no upload.
   */
  async fillRandom(seed: number, magnitude: number): Promise<void> {
    const kernel = await this.gpu.kernels.get({ name: 'weights.fill-random', sources: [RANDOM_SOURCE], entryPoint: 'fill_random', storage: ['words'], params: true });
    const rec = this.gpu.recorder('random weights');
    const floats = FLOAT_KINDS[this.type];
    this.parts.forEach((part, index) => {
      const { layout } = part;
      const grid = grid1d(layout.totalWords, 256, this.gpu.limits.maxComputeWorkgroupsPerDimension);
      const block = params(
        u32(layout.rows * layout.rowWords), u32(layout.rowWords), u32(isBlockQuantized(this.type) ? layout.scalesBase : layout.totalWords),
        u32(layout.totalWords), u32(floats === undefined ? 0 : this.type === 'F32' ? 1 : 2), u32(this.cols), u32((seed + index * 0x9e3779b9) >>> 0),
        f32(magnitude), u32(grid.rowStride), u32(floats ?? 0), f32(QUANT_RANGES[this.type]),
      );
      rec.dispatch(kernel, { words: part.buffer }, block, grid.workgroups);
    });
    await rec.submit();
  }

  release(): void {
    for (const part of this.parts) this.gpu.memory.release(part.buffer);
  }
}

const RANDOM_SOURCE = { file: 'shaders/weights-random.wgsl', code: randomWgsl };

/** Largest |quant| (times d) a block can reach, per type: random scales divide the magnitude by it. */
const QUANT_RANGES: Record<LinearWeightType, number> = { F32: 1, F16: 1, BF16: 1, Q8_0: 127, Q4_0: 8, Q4_1: 15, Q5_0: 16, Q5_1: 31 };

/** float_kind of shaders/weights-random.wgsl; undefined for block-quantized types. */
const FLOAT_KINDS: Partial<Record<LinearWeightType, number>> = { F32: 0, F16: 1, BF16: 2 };

/** How many rows fit in `maxBytes` (padding the planes to 16 bytes adds 48 bytes at most). */
function rowsFitting(type: LinearWeightType, cols: number, maxBytes: number): number {
  const { rowWords, highBitsRowWords, scaleRowWords } = weightLayout(type, 1, cols);
  return Math.floor((maxBytes - 48) / (4 * (rowWords + highBitsRowWords + scaleRowWords)));
}

function writePartRows(gpu: GpuRuntime, part: WeightPart, firstRow: number, bytes: Uint8Array): void {
  const { layout, buffer } = part;
  const chunk = repackRows(layout, bytes, bytes.byteLength / rowBytes(ggmlType(layout.type), layout.cols)!);
  gpu.memory.upload(buffer, chunk.values, 4 * firstRow * layout.rowWords);
  if (chunk.highBits) gpu.memory.upload(buffer, chunk.highBits, 4 * (layout.highBitsBase + firstRow * layout.highBitsRowWords));
  if (chunk.scales) gpu.memory.upload(buffer, chunk.scales, 4 * (layout.scalesBase + firstRow * layout.scaleRowWords));
}

interface RepackedRows {
  values: Uint8Array;
  highBits?: Uint8Array;
  scales?: Uint8Array;
}

/** Splits `count` file rows into the planes' byte images for those rows. */
function repackRows(layout: WeightLayout, bytes: Uint8Array, count: number): RepackedRows {
  const planes = PLANES[layout.type];
  const type = ggmlType(layout.type);
  const bytesPerRow = rowBytes(type, layout.cols)!;
  const values = new Uint8Array(count * layout.rowWords * 4);
  if (!planes.fields) {
    // Float rows: copied, zero padding up to the next 32 columns.
    for (let row = 0; row < count; row++) values.set(bytes.subarray(row * bytesPerRow, (row + 1) * bytesPerRow), row * layout.rowWords * 4);
    return { values };
  }
  const { quantsAt, quantBytes, highBitsAt } = planes.fields;
  const blocksPerRow = layout.cols / 32;
  const scaleBytes = 2 * planes.scaleHalves;
  const scales = new Uint8Array(count * layout.scaleRowWords * 4);
  const highBits = highBitsAt === undefined ? undefined : new Uint8Array(count * blocksPerRow * 4);
  for (let row = 0; row < count; row++) {
    for (let b = 0; b < blocksPerRow; b++) {
      const block = row * blocksPerRow + b;
      const at = block * type.blockBytes;
      values.set(bytes.subarray(at + quantsAt, at + quantsAt + quantBytes), block * quantBytes);
      scales.set(bytes.subarray(at, at + scaleBytes), row * layout.scaleRowWords * 4 + b * scaleBytes);
      if (highBits) highBits.set(bytes.subarray(at + highBitsAt!, at + highBitsAt! + 4), block * 4);
    }
  }
  return { values, highBits, scales };
}

/** Uploads a 1-D tensor (bias, norm weight…) stored as F32, F16 or BF16, converted to f32. */
export async function uploadVector(gpu: GpuRuntime, label: string, type: GgmlTypeName, bytes: Uint8Array, count: number): Promise<GPUBuffer> {
  if (type !== 'F32' && type !== 'F16' && type !== 'BF16') {
    throw invalidInput(`Vector "${label}" is ${type}; 1-D tensors must be F32, F16 or BF16.`, 'Use an unmodified model file.');
  }
  return gpu.memory.uploadNew(label, dequantize(type, bytes, count));
}
