// An in-memory FileStore for the downloader's Node tests, with the OPFS rule that matters: a file
// open for writing is held exclusively.

import type { RandomAccessSource } from '../../../src/engine/formats/byte-source';
import { EngineError } from '../../../src/engine/errors';
import type { FileStore, WritableFile } from '../../../src/engine/store/file-store';

export class MemoryFileStore implements FileStore {
  readonly files = new Map<string, Uint8Array>();
  private readonly held = new Set<string>();

  async open(name: string): Promise<WritableFile> {
    if (this.held.has(name)) throw new EngineError('storage', `${name} is open elsewhere.`, 'Close the other tab.');
    this.held.add(name);
    if (!this.files.has(name)) this.files.set(name, new Uint8Array(0));
    const get = () => this.files.get(name) ?? new Uint8Array(0);
    return {
      size: async () => get().length,
      read: async (at, length) => get().slice(at, at + length),
      write: async (bytes, at) => {
        const current = get();
        const next = new Uint8Array(Math.max(current.length, at + bytes.length));
        next.set(current);
        next.set(bytes, at);
        this.files.set(name, next);
      },
      truncate: async (bytes) => void this.files.set(name, get().slice(0, bytes)),
      flush: async () => undefined,
      close: async () => void this.held.delete(name),
    };
  }

  async source(name: string): Promise<RandomAccessSource | undefined> {
    const bytes = this.files.get(name);
    if (!bytes) return undefined;
    return { kind: 'random-access', name, size: bytes.length, read: async (offset, length) => bytes.slice(offset, offset + length) };
  }

  async remove(name: string): Promise<void> {
    this.files.delete(name);
  }

  async list(): Promise<{ name: string; bytes: number }[]> {
    return [...this.files].map(([name, bytes]) => ({ name, bytes: bytes.length }));
  }
}
