// An HWC activation of the VAE decoder stored as row parts, each its own buffer of at most a cap
// (below the storage binding and buffer size limits): at 1024² single activations reach 1 GiB.
// A part also stores a halo row above and below its own rows (copies of its neighbours' edge
// rows, refreshed by recordHaloExchange after the tensor is written), so a 3x3 convolution of
// any band of its rows reads one binding. Parts are allocated when first written and can be
// released one by one as soon as nothing later reads them, which keeps peak memory near the
// live activations rather than whole tensors.

import type { GpuRuntime } from '../../gpu/runtime';
import type { Recorder } from '../../gpu/recorder';
import type { ImageBand, ImageSize } from '../../ops/image-band';

/** Rows of halo a part keeps on each side that has a neighbour: a 3x3 convolution's reach. */
const HALO = 1;

export interface TensorPart {
  /** first image row the part owns (holds the authoritative values of) */
  first: number;
  rows: number;
  /** first stored row: `first` less the halo, except at the top of the image */
  storedFirst: number;
  /** owned rows plus halo rows */
  storedRows: number;
  buffer?: GPUBuffer;
}

/** Owned rows per part for a cap of `maxPartBytes` (at least 1); the whole height when it fits. */
export function rowsPerPart(size: ImageSize, maxPartBytes: number): number {
  const rowBytes = 4 * size.width * size.channels;
  if (size.height * rowBytes <= maxPartBytes) return size.height;
  return Math.max(1, Math.floor(maxPartBytes / rowBytes) - 2 * HALO);
}

export class BandedTensor {
  readonly parts: readonly TensorPart[];

  private constructor(
    private readonly gpu: GpuRuntime,
    readonly label: string,
    readonly size: ImageSize,
    partRows: number,
  ) {
    const parts: TensorPart[] = [];
    for (let first = 0; first < size.height; first += partRows) {
      const rows = Math.min(partRows, size.height - first);
      const halo = partRows < size.height ? HALO : 0;
      const storedFirst = Math.max(0, first - halo);
      parts.push({ first, rows, storedFirst, storedRows: Math.min(size.height, first + rows + halo) - storedFirst });
    }
    this.parts = parts;
  }

  /** Split into parts of at most `maxPartBytes` (one row and its halo at least). */
  static banded(gpu: GpuRuntime, label: string, size: ImageSize, maxPartBytes: number): BandedTensor {
    return new BandedTensor(gpu, label, size, rowsPerPart(size, maxPartBytes));
  }

  /** One part: for tensors read as a whole (the mid-block attention's) or small ones. */
  static whole(gpu: GpuRuntime, label: string, size: ImageSize): BandedTensor {
    return new BandedTensor(gpu, label, size, size.height);
  }

  /** One part in a buffer the caller owns (and frees). */
  static wholeIn(gpu: GpuRuntime, buffer: GPUBuffer, size: ImageSize): BandedTensor {
    const tensor = new BandedTensor(gpu, buffer.label, size, size.height);
    tensor.parts[0].buffer = buffer;
    return tensor;
  }

  /** The part owning image row `row`. */
  partOf(row: number): TensorPart {
    return this.parts.find((part) => row < part.first + part.rows)!;
  }

  async allocate(part: TensorPart): Promise<GPUBuffer> {
    part.buffer ??= await this.gpu.memory.allocate(this.partLabel(part), 4 * part.storedRows * this.rowElements);
    return part.buffer;
  }

  async allocateAll(): Promise<void> {
    for (const part of this.parts) await this.allocate(part);
  }

  /** Rows [firstRow, firstRow + rows) as stored in `part` (owned or halo rows). */
  band(part: TensorPart, firstRow: number, rows: number): ImageBand {
    const offset = (firstRow - part.storedFirst) * this.rowElements;
    return { view: { buffer: part.buffer!, offset, stride: this.size.channels }, firstRow, rows };
  }

  /** Every part's owned rows: each image row exactly once. */
  ownedBands(): ImageBand[] {
    return this.parts.map((part) => this.band(part, part.first, part.rows));
  }

  /** Copies each part's edge rows into its neighbours' halos. */
  recordHaloExchange(rec: Recorder): void {
    const rowBytes = 4 * this.rowElements;
    const copyRow = (row: number, from: TensorPart, to: TensorPart) => rec.copy(from.buffer!, (row - from.storedFirst) * rowBytes, to.buffer!, (row - to.storedFirst) * rowBytes, rowBytes);
    for (let i = 0; i + 1 < this.parts.length; i++) {
      const [upper, lower] = [this.parts[i], this.parts[i + 1]];
      copyRow(lower.first - 1, upper, lower);
      copyRow(lower.first, lower, upper);
    }
  }

  /** Frees one part; its rows must not be read again. */
  release(part: TensorPart): void {
    if (part.buffer) this.gpu.memory.release(part.buffer);
    part.buffer = undefined;
  }

  releaseAll(): void {
    this.parts.forEach((part) => this.release(part));
  }

  private get rowElements(): number {
    return this.size.width * this.size.channels;
  }

  private partLabel(part: TensorPart): string {
    return this.parts.length === 1 ? this.label : `${this.label} rows ${part.first}..${part.first + part.rows - 1}`;
  }
}
