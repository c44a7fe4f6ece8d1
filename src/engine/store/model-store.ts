// The engine's model store: what engine.ts delegates the "Model store" API to. Runs downloads
// (one per file; a second request for the same file joins the first), pauses, cancels, lists and
// deletes stored files, checks model files, and hands the generation pipeline the verified stored
// files by id. Environment-agnostic: the worker gives it OPFS and the browser's fetch, tests
// give it memory and a loopback server.

import { createSHA256 } from 'hash-wasm';
import type {
  CapabilityRequest, CapabilityVerdict, CatalogFile, DownloadProgressCallback, GpuReport, ModelComponent, ModelFileCheckRequest, ModelFileReport,
  ModelSet, ModelSource, StorageReport, StoredModelFile,
} from '../../engine-api';
import { CapabilityRequestSchema, CatalogFileSchema, FileIdListSchema, FileIdSchema, MODEL_COMPONENTS, ModelFileCheckRequestSchema } from '../../schema/catalog';
import { EngineError } from '../errors';
import { blobSource, type RandomAccessSource } from '../formats/byte-source';
import { httpRangeSource } from '../formats/http-sources';
import type { StoredFileLookup } from '../pipeline/sources';
import { capabilityVerdicts } from './capabilities';
import { downloadFile, type DownloadEnvironment, type StopReason } from './downloader';
import type { FileStore } from './file-store';
import { headerReport, readModelHeader, type ModelHeader } from './header-check';
import { openOpfsFileStore } from './opfs-file-store';
import { checkedRequest } from '../request-checks';
import { dataFileName, listRecords, recordFileName, removeStoredFile, type StoredRecord } from './records';

export interface ModelStoreEnvironment extends Omit<DownloadEnvironment, 'files'> {
  /** opened on first use: the worker's OPFS folder, or memory in tests */
  files: () => Promise<FileStore>;
}

/** Slices a whole file is hashed in, bytes: never the whole file in memory. */
const HASH_SLICE = 8 * 1024 * 1024;

interface Running {
  promise: Promise<StoredModelFile>;
  controller: AbortController;
  listeners: Set<DownloadProgressCallback>;
}

export class ModelStore {
  private files: Promise<FileStore> | undefined;
  private readonly running = new Map<string, Running>();
  /** headers read by URL, for repeated capability checks (a header costs a 64 KiB Range read) */
  private readonly urlHeaders = new Map<string, Promise<ModelHeader>>();

  constructor(private readonly env: ModelStoreEnvironment = browserEnvironment()) {}

  async download(request: CatalogFile, onProgress?: DownloadProgressCallback): Promise<StoredModelFile> {
    const file = checkedRequest(CatalogFileSchema, request, 'the catalog file entry');
    const joined = this.running.get(file.id);
    if (joined) {
      if (onProgress) joined.listeners.add(onProgress);
      return joined.promise;
    }
    const controller = new AbortController();
    const listeners = new Set(onProgress ? [onProgress] : []);
    const promise = this.store()
      .then((files) => downloadFile(file, { ...this.env, files }, { signal: controller.signal, onProgress: (p) => listeners.forEach((listener) => listener(p)) }))
      .then((record) => this.describe(record))
      .finally(() => this.running.delete(file.id));
    this.running.set(file.id, { promise, controller, listeners });
    return promise;
  }

  pause(fileId: string): Promise<void> {
    return this.stop(checkedRequest(FileIdSchema, fileId, 'the file id'), 'pause');
  }

  async cancel(request: string): Promise<void> {
    const fileId = checkedRequest(FileIdSchema, request, 'the file id');
    await this.stop(fileId, 'cancel');
    await removeStoredFile(await this.store(), fileId);
  }

  async delete(fileId: string): Promise<void> {
    await this.cancel(fileId);
  }

  async list(): Promise<StoredModelFile[]> {
    const files = await this.store();
    const sizes = new Map((await files.list()).map((file) => [file.name, file.bytes]));
    return (await listRecords(files)).map((record) => this.describe(record, sizes.get(dataFileName(record.fileId)) ?? 0));
  }

  /** Deletes partial downloads (not running ones) and stored files not in `keep`, and files no record accounts for. */
  async freeStorage(request: readonly string[]): Promise<number> {
    const keep = checkedRequest(FileIdListSchema, request, 'the files to keep');
    const files = await this.store();
    const records = await listRecords(files);
    const keptIds = records.filter((r) => this.running.has(r.fileId) || (r.status === 'ready' && keep.includes(r.fileId))).map((r) => r.fileId);
    const kept = new Set(keptIds.flatMap((id) => [dataFileName(id), recordFileName(id)]));
    let freed = 0;
    for (const { name, bytes } of await files.list()) {
      if (kept.has(name)) continue;
      await files.remove(name);
      freed += bytes;
    }
    return freed;
  }

  async storageReport(): Promise<StorageReport> {
    const files = await this.store();
    const { usage, quota } = (await this.env.estimate?.()) ?? { usage: 0, quota: 0 };
    const modelBytes = (await files.list()).reduce((sum, file) => sum + file.bytes, 0);
    return { usageBytes: usage, quotaBytes: quota, modelBytes };
  }

  /** The verified stored files as the pipeline opens them; a partial or missing one is a typed error. */
  async lookup(): Promise<StoredFileLookup> {
    const files = await this.store();
    const records = new Map((await listRecords(files)).map((record) => [record.fileId, record]));
    return {
      storedFile: (fileId) => {
        const record = records.get(fileId);
        if (record?.status !== 'ready' || !record.sha256) throw notStored(fileId, record);
        const open = async () => {
          const source = await files.source(dataFileName(fileId));
          if (!source) throw notStored(fileId, undefined);
          // Named as published: the reader picks GGUF or safetensors by the extension.
          return { ...source, name: record.name };
        };
        return { name: record.name, sha256: record.sha256, open };
      },
    };
  }

  /** The lookup for a model set's stored sources; none when it has none (the browser storage is then never opened). */
  async lookupFor(models: ModelSet): Promise<StoredFileLookup | undefined> {
    return MODEL_COMPONENTS.some((component) => 'stored' in models[component]) ? this.lookup() : undefined;
  }

  async checkFile(unchecked: ModelFileCheckRequest): Promise<ModelFileReport> {
    const request = checkedRequest(ModelFileCheckRequestSchema, unchecked, 'the file check');
    const source = await this.open(request.source);
    const report = headerReport(await readModelHeader(request.component, source));
    return request.hash ? { ...report, sha256: await sha256Of(source) } : report;
  }

  async capabilities(unchecked: CapabilityRequest, report: GpuReport): Promise<CapabilityVerdict[]> {
    const request = checkedRequest(CapabilityRequestSchema, unchecked, 'the capability check');
    return capabilityVerdicts(request, report, (component, source) => this.header(component, source));
  }

  private header(component: ModelComponent, source: ModelSource): Promise<ModelHeader> {
    const read = () => this.open(source).then((opened) => readModelHeader(component, opened));
    if (!('url' in source)) return read();
    const key = `${component} ${source.url}`;
    const cached = this.urlHeaders.get(key) ?? read();
    this.urlHeaders.set(key, cached);
    // A refusal stays a refusal; a header that could not be read (network) is tried again next time.
    cached.catch((error: unknown) => {
      if (!(error instanceof EngineError && error.code === 'model-file')) this.urlHeaders.delete(key);
    });
    return cached;
  }

  private async stop(fileId: string, reason: StopReason): Promise<void> {
    const running = this.running.get(fileId);
    if (!running) return;
    running.controller.abort(reason);
    await running.promise.catch(() => undefined);
  }

  private async open(source: ModelSource): Promise<RandomAccessSource> {
    if ('url' in source) return { ...(await httpRangeSource(source.url, this.env.fetch)), name: fileNameOf(source.url) };
    if ('file' in source) return blobSource(source.file, source.name);
    return (await this.lookup()).storedFile(source.stored).open();
  }

  private store(): Promise<FileStore> {
    this.files ??= this.env.files().catch((error: unknown) => {
      this.files = undefined;
      throw error;
    });
    return this.files;
  }

  private describe(record: StoredRecord, bytes = record.offset): StoredModelFile {
    const { fileId, name, component, url, totalBytes, status, sha256, notes, paused } = record;
    return {
      fileId, name, component, url, totalBytes, status, notes,
      bytes: status === 'ready' ? totalBytes : Math.min(bytes, record.offset),
      ...(sha256 ? { sha256 } : {}),
      interrupted: status === 'partial' && !paused && !this.running.has(fileId),
    };
  }
}

function browserEnvironment(): ModelStoreEnvironment {
  return {
    files: openOpfsFileStore,
    fetch: (input, init) => fetch(input, init),
    estimate: async () => {
      const { usage = 0, quota = 0 } = await navigator.storage.estimate();
      return { usage, quota };
    },
  };
}

function notStored(fileId: string, record: StoredRecord | undefined): EngineError {
  const what = record ? `${record.name} is only partly downloaded (${Math.round((100 * record.offset) / Math.max(1, record.totalBytes))}%)` : `Model file "${fileId}" is not in this browser's storage`;
  return new EngineError('storage', `${what}; a partial file is never used.`, 'Open Models and download it (a partial download resumes where it stopped).');
}

/** The last path segment of a URL, so the format is known by its extension. */
function fileNameOf(url: string): string {
  return decodeURIComponent(new URL(url, 'http://localhost/').pathname.split('/').pop() || url);
}

async function sha256Of(source: RandomAccessSource): Promise<string> {
  const hasher = await createSHA256();
  for (let at = 0; at < source.size; at += HASH_SLICE) hasher.update(await source.read(at, Math.min(HASH_SLICE, source.size - at)));
  return hasher.digest('hex');
}
