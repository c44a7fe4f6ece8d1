// Shared by the GGUF and safetensors tests: a little-endian byte builder that does not use the
// code under test (so hand-built files are an independent oracle), byte sources of every shape,
// and helpers to collect tensors and check typed errors.

import { expect } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import { streamSource, type SequentialSource } from '../../src/engine/formats/byte-source';
import type { TensorFile, TensorSpan } from '../../src/engine/formats/tensor-file';
import { randomArray, randomInt } from '../helpers/random';

export class RawBytes {
  private readonly bytes: number[] = [];

  get length(): number {
    return this.bytes.length;
  }

  private put(size: number, write: (view: DataView) => void): this {
    const view = new DataView(new ArrayBuffer(size));
    write(view);
    this.bytes.push(...new Uint8Array(view.buffer));
    return this;
  }

  u8 = (value: number) => this.put(1, (v) => v.setUint8(0, value));
  i8 = (value: number) => this.put(1, (v) => v.setInt8(0, value));
  u16 = (value: number) => this.put(2, (v) => v.setUint16(0, value, true));
  i16 = (value: number) => this.put(2, (v) => v.setInt16(0, value, true));
  u32 = (value: number) => this.put(4, (v) => v.setUint32(0, value, true));
  i32 = (value: number) => this.put(4, (v) => v.setInt32(0, value, true));
  u64 = (value: number | bigint) => this.put(8, (v) => v.setBigUint64(0, BigInt(value), true));
  i64 = (value: bigint) => this.put(8, (v) => v.setBigInt64(0, value, true));
  f32 = (value: number) => this.put(4, (v) => v.setFloat32(0, value, true));
  f64 = (value: number) => this.put(8, (v) => v.setFloat64(0, value, true));

  raw(bytes: ArrayLike<number>): this {
    this.bytes.push(...Array.from(bytes));
    return this;
  }

  text(value: string): this {
    return this.raw(new TextEncoder().encode(value));
  }

  /** GGUF string: u64 length + UTF-8 bytes. */
  str(value: string): this {
    const encoded = new TextEncoder().encode(value);
    return this.u64(encoded.length).raw(encoded);
  }

  zeros(count: number): this {
    return this.raw(new Uint8Array(count));
  }

  padTo(alignment: number): this {
    return this.zeros((alignment - (this.length % alignment)) % alignment);
  }

  build(): Uint8Array {
    return new Uint8Array(this.bytes);
  }
}

export function concatParts(parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}

export function randomBytes(seed: number, count: number): Uint8Array {
  return Uint8Array.from(randomArray(seed, count, 0, 256), Math.floor);
}

/** `bytes` delivered as a stream of random small pieces (1..maxPiece bytes, some empty). */
export function chunkedStream(bytes: Uint8Array, seed: number, options: { maxPiece?: number; knownSize?: boolean } = {}): SequentialSource {
  const maxPiece = options.maxPiece ?? 97;
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      const length = randomInt(seed, 0, maxPiece);
      controller.enqueue(bytes.slice(at, at + length));
      at += length;
    },
  });
  return streamSource(stream, 'streamed file', options.knownSize === false ? undefined : bytes.length);
}

/**
 * A fetch serving `bytes` like a CDN answering Range requests; or hiding Content-Range as a
 * cross-origin server may (the size then comes from a HEAD); or ignoring ranges; or failing.
 */
export function rangeServer(bytes: Uint8Array, behaviour: 'ranges' | 'hidden-content-range' | 'ignore-ranges' | 'not-found' = 'ranges'): typeof fetch {
  return async (_url, init) => {
    if (behaviour === 'not-found') return new Response('missing', { status: 404, statusText: 'Not Found' });
    if (init?.method === 'HEAD') return new Response(null, { status: 200, headers: { 'content-length': String(bytes.length) } });
    const range = /bytes=(\d+)-(\d+)/.exec(new Headers(init?.headers).get('range') ?? '');
    if (!range || behaviour === 'ignore-ranges') return new Response(bytes.slice(), { status: 200 });
    const [first, last] = [Number(range[1]), Math.min(Number(range[2]), bytes.length - 1)];
    const headers: Record<string, string> = behaviour === 'ranges' ? { 'content-range': `bytes ${first}-${last}/${bytes.length}` } : {};
    return new Response(bytes.slice(first, last + 1), { status: 206, headers });
  };
}

export interface CollectedChunk {
  name: string;
  begin: number;
  bytes: Uint8Array;
}

/** Every chunk a file yields for `names` (default all), in order. */
export async function collectChunks<T extends TensorSpan>(file: TensorFile<T>, names?: string[], chunkBytes?: number): Promise<CollectedChunk[]> {
  const chunks: CollectedChunk[] = [];
  for await (const chunk of file.tensorChunks(names, { chunkBytes })) {
    chunks.push({ name: chunk.tensor.name, begin: chunk.begin, bytes: chunk.bytes });
  }
  return chunks;
}

/** Awaits `work`, expecting a typed engine error whose message matches `message`. */
export async function expectEngineError(work: Promise<unknown>, message: RegExp, code = 'model-file'): Promise<EngineError> {
  const error = await work.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error, 'expected an error').toBeInstanceOf(EngineError);
  const engineError = error as EngineError;
  expect(engineError.code).toBe(code);
  expect(engineError.message).toMatch(message);
  expect(engineError.message).not.toMatch(/undefined|NaN|\[object/);
  expect(engineError.action.length).toBeGreaterThan(20);
  return engineError;
}

/** The file's data advice, shared by every truncated-file error. */
export const REDOWNLOAD_ACTION = /delete it and download it again/;
