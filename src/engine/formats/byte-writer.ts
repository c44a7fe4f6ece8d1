// A growable little-endian byte buffer for writing file headers.

const utf8 = new TextEncoder();

export class ByteWriter {
  private buffer: Uint8Array = new Uint8Array(256);
  private view: DataView = new DataView(this.buffer.buffer);
  private length = 0;

  get position(): number {
    return this.length;
  }

  /** Reserves `bytes` and returns a view positioned at them, for a codec to fill. */
  reserve(bytes: number): { view: DataView; at: number } {
    this.grow(bytes);
    const at = this.length;
    this.length += bytes;
    return { view: this.view, at };
  }

  u32(value: number): void {
    const { view, at } = this.reserve(4);
    view.setUint32(at, value, true);
  }

  u64(value: number | bigint): void {
    const { view, at } = this.reserve(8);
    view.setBigUint64(at, BigInt(value), true);
  }

  bytes(bytes: Uint8Array): void {
    this.grow(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** GGUF string: u64 byte length, then UTF-8 bytes without a terminator. */
  ggufString(text: string): void {
    const encoded = utf8.encode(text);
    this.u64(encoded.length);
    this.bytes(encoded);
  }

  /** Zero bytes up to the next multiple of `alignment`. */
  padTo(alignment: number): void {
    this.reserve(paddingFor(this.length, alignment));
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  private grow(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const larger = new Uint8Array(Math.max(this.buffer.length * 2, this.length + extra));
    larger.set(this.buffer.subarray(0, this.length));
    this.buffer = larger;
    this.view = new DataView(larger.buffer);
  }
}

/** Zero bytes that bring `offset` to a multiple of `alignment` (ggml's GGML_PAD). */
export function paddingFor(offset: number, alignment: number): number {
  return (alignment - (offset % alignment)) % alignment;
}
