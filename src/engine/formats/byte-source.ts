// Where model-file bytes come from. Weights of 7-13 GB never fit one ArrayBuffer, so the readers
// pull bytes through one of two shapes: random access (a File/Blob, an HTTP server answering
// Range requests, a Node file) or a one-pass sequential stream (a fetch Response body), which
// can only deliver the file front to back.

export interface RandomAccessSource {
  readonly kind: 'random-access';
  /** File name or URL, for error messages. */
  readonly name: string;
  /** bytes */
  readonly size: number;
  /** `length` bytes starting at byte `offset`; callers stay within `size`. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

export interface SequentialSource {
  readonly kind: 'sequential';
  readonly name: string;
  /** bytes; undefined when the stream's length is unknown (no usable Content-Length) */
  readonly size: number | undefined;
  /** The next piece of the file (any length), or undefined at its end. One consumer only. */
  next(): Promise<Uint8Array | undefined>;
  /** Stops the stream early, e.g. once the wanted tensors have been read. */
  close?(): Promise<void>;
}

export type ByteSource = RandomAccessSource | SequentialSource;

/** Bytes already in memory (small files, tests). */
export function bytesSource(bytes: Uint8Array, name = 'in-memory file'): RandomAccessSource {
  return {
    kind: 'random-access',
    name,
    size: bytes.length,
    read: async (offset, length) => bytes.slice(offset, offset + length),
  };
}

/** A File picked by the user, or any Blob (e.g. from OPFS): read slice by slice, never whole. */
export function blobSource(blob: Blob, name = blobName(blob)): RandomAccessSource {
  return {
    kind: 'random-access',
    name,
    size: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}

function blobName(blob: Blob): string {
  return 'name' in blob && typeof blob.name === 'string' ? blob.name : 'blob';
}

/** A byte stream read once, front to back (e.g. `Blob.stream()` or a Response body). */
export function streamSource(stream: ReadableStream<Uint8Array>, name: string, size?: number): SequentialSource {
  const reader = stream.getReader();
  return {
    kind: 'sequential',
    name,
    size,
    next: async () => {
      const { done, value } = await reader.read();
      return done ? undefined : value;
    },
    close: () => reader.cancel(),
  };
}
