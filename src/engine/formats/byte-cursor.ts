// A forward reader over a ByteSource. Parsers `await need(n)` once, then read little-endian
// fields synchronously from the buffered bytes. Every early end of file becomes a truncation
// error naming the section being read, and every length or count read from the file is checked
// against the bytes that can still follow (`claim`) before anything is allocated for it.

import { formatBytes } from '../errors';
import type { ByteSource, RandomAccessSource } from './byte-source';
import { malformedFile, sequentialRewind, truncatedFile } from './model-file-errors';

/** Header reads from random-access sources fetch this much at once (bytes). */
const READ_AHEAD = 64 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class ByteCursor {
  /** The part of the file being read, for error messages ("header", "metadata entry 3", …). */
  section = 'header';
  /** Absolute byte the current phase must not read past: bounds headers of unknown-length streams. */
  limit = Infinity;
  private buffer: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(this.buffer.buffer);
  /** file offset of buffer[0] */
  private bufferStart = 0;
  /** index of `position` in buffer */
  private at = 0;

  constructor(readonly source: ByteSource) {}

  get name(): string {
    return this.source.name;
  }

  get position(): number {
    return this.bufferStart + this.at;
  }

  private get fileSize(): number {
    return this.source.size ?? Infinity;
  }

  /**
   * `count` items of at least `bytesEach` bytes are announced at `position`: returns the count as
   * a number if they fit in what remains of the file and under `limit`, else throws. Use before
   * allocating for them.
   */
  claim(count: bigint, bytesEach: number, what: string): number {
    if (this.fileSize <= this.limit) return this.checkRoom(count, bytesEach, what, this.fileSize, 'in the file: it is incomplete or damaged');
    return this.claimUnderLimit(count, bytesEach, what);
  }

  /**
   * Like `claim`, bounded by `limit` only: for counts of items read one at a time, nothing
   * allocated up front, so a file that ends early is reported as cut inside the item it cuts.
   */
  claimUnderLimit(count: bigint, bytesEach: number, what: string): number {
    return this.checkRoom(count, bytesEach, what, this.limit, `before the ${formatBytes(this.limit)} this app allows for a header`);
  }

  private checkRoom(count: bigint, bytesEach: number, what: string, end: number, where: string): number {
    const room = Math.min(end - this.position, Number.MAX_SAFE_INTEGER);
    if (count * BigInt(bytesEach) <= BigInt(room)) return Number(count);
    throw malformedFile(this.name, this.section, `${what} is ${count}, but only ${room} bytes remain ${where}`);
  }

  /** Makes `length` bytes at `position` readable synchronously. */
  async need(length: number): Promise<void> {
    const buffered = this.buffer.length - this.at;
    if (buffered >= length) return;
    const end = this.position + length;
    if (end > this.fileSize) throw truncatedFile(this.name, this.section, end, this.fileSize);
    const pieces: Uint8Array[] = [this.buffer.subarray(this.at)];
    const source = this.source;
    if (source.kind === 'random-access') {
      const from = this.position + buffered;
      const want = Math.min(Math.max(length - buffered, READ_AHEAD), source.size - from);
      pieces.push(await this.readAt(source, from, want, this.section));
    } else {
      for (let received = buffered; received < length; ) {
        const piece = await source.next();
        if (!piece) throw truncatedFile(this.name, this.section, end, this.position + received);
        pieces.push(piece);
        received += piece.length;
      }
    }
    this.replaceBuffer(concat(pieces), this.position);
  }

  /** The next `length` bytes, already made available by `need`. A view: copy to keep. */
  take(length: number): Uint8Array {
    if (this.at + length > this.buffer.length) throw new RangeError(`ByteCursor.take(${length}) without need()`);
    const bytes = this.buffer.subarray(this.at, this.at + length);
    this.at += length;
    return bytes;
  }

  u32(): number {
    const value = this.view.getUint32(this.at, true);
    this.take(4);
    return value;
  }

  u64(): bigint {
    const value = this.view.getBigUint64(this.at, true);
    this.take(8);
    return value;
  }

  /** `length` bytes of UTF-8 text, already made available by `need`. */
  text(length: number, what: string): string {
    try {
      return utf8.decode(this.take(length));
    } catch {
      throw malformedFile(this.name, this.section, `${what} is not valid UTF-8 text`);
    }
  }

  /** Moves forward to `offset`, discarding bytes in between (streams are never buffered whole). */
  async skipTo(offset: number): Promise<void> {
    if (offset < this.position) throw sequentialRewind(this.name, offset, this.position);
    const buffered = this.buffer.length - this.at;
    if (offset - this.position <= buffered) {
      this.at += offset - this.position;
      return;
    }
    if (offset > this.fileSize) throw truncatedFile(this.name, this.section, offset, this.fileSize);
    let reached = this.position + buffered;
    let piece: Uint8Array = new Uint8Array(0);
    while (this.source.kind === 'sequential' && reached < offset) {
      const next = await this.source.next();
      if (!next) throw truncatedFile(this.name, this.section, offset, reached);
      piece = next;
      reached += next.length;
    }
    // Random-access sources simply start reading at `offset` next time.
    this.replaceBuffer(piece.subarray(piece.length - Math.max(0, reached - offset)), offset);
  }

  /**
   * Bytes [offset, offset + length) of the file, owned by the caller. Random-access sources read
   * them directly (any order, concurrent calls allowed); sequential ones only move forward.
   */
  async readRange(offset: number, length: number, section: string): Promise<Uint8Array> {
    if (this.source.kind === 'random-access') return this.readAt(this.source, offset, length, section);
    this.section = section;
    await this.skipTo(offset);
    await this.need(length);
    return this.take(length).slice();
  }

  private async readAt(source: RandomAccessSource, offset: number, length: number, section: string): Promise<Uint8Array> {
    const end = offset + length;
    if (end > source.size) throw truncatedFile(this.name, section, end, source.size);
    const bytes = await source.read(offset, length);
    // A shorter answer means the file shrank after its size was taken.
    if (bytes.length < length) throw truncatedFile(this.name, section, end, offset + bytes.length);
    return bytes;
  }

  private replaceBuffer(bytes: Uint8Array, start: number): void {
    this.buffer = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.bufferStart = start;
    this.at = 0;
  }
}

function concat(pieces: Uint8Array[]): Uint8Array {
  if (pieces.length === 2 && pieces[0].length === 0) return pieces[1];
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const joined = new Uint8Array(total);
  let at = 0;
  for (const piece of pieces) {
    joined.set(piece, at);
    at += piece.length;
  }
  return joined;
}
