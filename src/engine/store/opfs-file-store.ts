// The model store's files in the browser: the origin private file system (OPFS), written through
// sync access handles (dedicated workers only; the only write path Safari before 26 has), read
// back as File slices. Browser errors become typed 'storage' errors saying what to do.

import { blobSource, type RandomAccessSource } from '../formats/byte-source';
import { EngineError } from '../errors';
import type { FileStore, WritableFile } from './file-store';

/** The parts of FileSystemSyncAccessHandle used here (not in TypeScript's DOM library yet). */
interface SyncAccessHandle {
  getSize(): number;
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

type DirectoryWithEntries = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> };

const STORE_DIRECTORY = 'models';
/** how often, and how far apart (ms), opening a file held by another worker is tried */
const HELD_RETRIES = 10;
const HELD_RETRY_MS = 300;

/** The store in this origin's private file system, or a typed error where the browser has none. */
export async function openOpfsFileStore(): Promise<FileStore> {
  const storage = typeof navigator === 'undefined' ? undefined : navigator.storage;
  if (!storage?.getDirectory) {
    throw new EngineError('storage', 'This browser offers web pages no private file storage (OPFS), where models are kept.', 'Use a current Chrome, Edge, Firefox or Safari outside a private window, or pick the model files from your disk.');
  }
  const root = await storageCall('open the browser storage', () => storage.getDirectory());
  const directory = await storageCall('open the model folder', () => root.getDirectoryHandle(STORE_DIRECTORY, { create: true }));
  return new OpfsFileStore(directory as DirectoryWithEntries);
}

class OpfsFileStore implements FileStore {
  constructor(private readonly directory: DirectoryWithEntries) {}

  async open(name: string): Promise<WritableFile> {
    const file = await storageCall(`open ${name}`, () => this.directory.getFileHandle(name, { create: true }));
    const handle = await storageCall(`open ${name} for writing`, () => syncAccessHandle(file));
    return {
      size: async () => handle.getSize(),
      read: async (at, length) => {
        const bytes = new Uint8Array(length);
        return bytes.subarray(0, handle.read(bytes, { at }));
      },
      write: (bytes, at) =>
        storageCall(`write ${name}`, async () => {
          for (let written = 0; written < bytes.length; ) written += handle.write(bytes.subarray(written), { at: at + written });
        }),
      truncate: (bytes) => storageCall(`shorten ${name}`, async () => handle.truncate(bytes)),
      flush: () => storageCall(`save ${name}`, async () => handle.flush()),
      close: async () => handle.close(),
    };
  }

  async source(name: string): Promise<RandomAccessSource | undefined> {
    const file = await this.fileHandle(name);
    return file && blobSource(await storageCall(`read ${name}`, () => file.getFile()), name);
  }

  async remove(name: string): Promise<void> {
    if (await this.fileHandle(name)) await storageCall(`delete ${name}`, () => this.directory.removeEntry(name));
  }

  async list(): Promise<{ name: string; bytes: number }[]> {
    const files: { name: string; bytes: number }[] = [];
    for await (const [name, handle] of this.directory.entries()) {
      if (handle.kind === 'file') files.push({ name, bytes: (await (handle as FileSystemFileHandle).getFile()).size });
    }
    return files;
  }

  private async fileHandle(name: string): Promise<FileSystemFileHandle | undefined> {
    try {
      return await this.directory.getFileHandle(name);
    } catch (error) {
      if ((error as DOMException).name === 'NotFoundError') return undefined;
      throw storageError(`open ${name}`, error);
    }
  }
}

/** Tries again for a moment when the file is still held: a reloaded page's worker may start before the old one let go. */
async function syncAccessHandle(file: FileSystemFileHandle): Promise<SyncAccessHandle> {
  const open = () => (file as unknown as { createSyncAccessHandle(): Promise<SyncAccessHandle> }).createSyncAccessHandle();
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      if ((error as DOMException).name !== 'NoModificationAllowedError' || attempt === HELD_RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, HELD_RETRY_MS));
    }
  }
}

async function storageCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw storageError(what, error);
  }
}

function storageError(what: string, error: unknown): EngineError {
  const name = (error as DOMException | undefined)?.name;
  if (name === 'QuotaExceededError') {
    return new EngineError('storage', `The browser refused to store more (while trying to ${what}): this site's storage quota is used up.`, 'Delete stored models you no longer need, allow persistent storage, or free disk space; then press Resume.');
  }
  if (name === 'NoModificationAllowedError' || name === 'InvalidStateError') {
    return new EngineError('storage', `Could not ${what}: another tab of this app is using the file.`, 'Close the other tabs of this app (or wait for their downloads to end), then try again.');
  }
  return new EngineError('storage', `Could not ${what} in the browser's storage: ${(error as Error)?.message ?? String(error)}`, 'Reload the page; if it keeps failing, check that the browser allows this site to store data (not a private window).', { cause: error });
}
