// Where the model store keeps its files: OPFS in the browser (opfs-file-store.ts), memory or a
// folder in Node tests. The downloader sees only this small interface, so the same code is
// tested in Node against a real loopback server and runs in the worker against OPFS.

import type { RandomAccessSource } from '../formats/byte-source';

/** An open file, written in place (OPFS: a sync access handle, held exclusively). */
export interface WritableFile {
  /** bytes */
  size(): Promise<number>;
  read(at: number, length: number): Promise<Uint8Array>;
  write(bytes: Uint8Array, at: number): Promise<void>;
  truncate(bytes: number): Promise<void>;
  /** returns once what was written is on disk */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface FileStore {
  /** Opens or creates `name` for writing; a typed 'storage' error when another tab holds it. */
  open(name: string): Promise<WritableFile>;
  /** `name` for reading, slice by slice; undefined when there is no such file. */
  source(name: string): Promise<RandomAccessSource | undefined>;
  /** Deletes `name`; nothing when it does not exist. */
  remove(name: string): Promise<void>;
  /** Every file with its size in bytes. */
  list(): Promise<{ name: string; bytes: number }[]>;
}

/** The file's whole text, or undefined when it does not exist or is empty. */
export async function readText(store: FileStore, name: string): Promise<string | undefined> {
  const source = await store.source(name);
  if (!source || source.size === 0) return undefined;
  return new TextDecoder().decode(await source.read(0, source.size));
}

/** Replaces an open file's content with `text` and flushes it. */
export async function replaceText(file: WritableFile, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  await file.truncate(0);
  await file.write(bytes, 0);
  await file.flush();
}
