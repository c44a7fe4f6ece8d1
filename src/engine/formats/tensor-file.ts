// What GGUF and safetensors files have in common once their header is parsed: named tensors at
// byte ranges of the file, delivered in chunks of whole rows as they are read, so a loader can
// upload each chunk to the GPU while the next one is on its way and never holds a whole file.

import type { ByteCursor } from './byte-cursor';
import { missingTensor } from './model-file-errors';

export interface TensorSpan {
  name: string;
  /** Absolute byte offset of the tensor's first byte in the file. */
  offset: number;
  /** bytes */
  byteLength: number;
  /** Bytes per row (innermost dimension); chunks hold whole rows. */
  rowBytes: number;
}

export interface TensorChunk<T extends TensorSpan> {
  tensor: T;
  /** Byte offset of `bytes` within the tensor. */
  begin: number;
  /** Owned by the caller. */
  bytes: Uint8Array;
}

export interface ChunkOptions {
  /** Upper bound on a chunk's size in bytes, unless one row is larger. Default 8 MiB. */
  chunkBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

export class TensorFile<T extends TensorSpan> {
  private readonly byName: Map<string, T>;

  /** `tensors` in header order; `cursor` stands where the header ended. */
  constructor(
    private readonly cursor: ByteCursor,
    readonly tensors: readonly T[],
  ) {
    this.byName = new Map(tensors.map((tensor) => [tensor.name, tensor]));
  }

  /** File name or URL. */
  get name(): string {
    return this.cursor.name;
  }

  tensor(name: string): T | undefined {
    return this.byName.get(name);
  }

  /**
   * The bytes of the named tensors (default: all), in file order, each tensor as consecutive
   * chunks of whole rows covering it (one empty chunk for an empty tensor). On a sequential
   * source, later calls may only ask for tensors further along in the file.
   */
  async *tensorChunks(names?: Iterable<string>, options: ChunkOptions = {}): AsyncGenerator<TensorChunk<T>> {
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    for (const tensor of this.inFileOrder(names)) {
      const step = Math.max(1, Math.floor(chunkBytes / tensor.rowBytes)) * tensor.rowBytes;
      const section = `data of tensor "${tensor.name}"`;
      let begin = 0;
      do {
        const length = Math.min(step, tensor.byteLength - begin);
        const bytes = await this.cursor.readRange(tensor.offset + begin, length, section);
        yield { tensor, begin, bytes };
        begin += length;
      } while (begin < tensor.byteLength);
    }
  }

  /** One tensor's bytes in a single array: for small tensors and tests. */
  async readTensor(name: string): Promise<Uint8Array> {
    const tensor = this.byName.get(name) ?? this.raiseMissing(name);
    const bytes = new Uint8Array(tensor.byteLength);
    for await (const chunk of this.tensorChunks([name])) bytes.set(chunk.bytes, chunk.begin);
    return bytes;
  }

  async close(): Promise<void> {
    await this.cursor.source.close?.();
  }

  private inFileOrder(names: Iterable<string> | undefined): T[] {
    const chosen = names ? [...new Set(names)].map((name) => this.byName.get(name) ?? this.raiseMissing(name)) : [...this.tensors];
    return chosen.sort((a, b) => a.offset - b.offset);
  }

  private raiseMissing(name: string): never {
    throw missingTensor(this.name, name);
  }
}
