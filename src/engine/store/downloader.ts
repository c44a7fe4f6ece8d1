// One catalog file from its server into the store, resumably:
//   probe (GET Range bytes=0-0: size, Range support) → header check by Range reads (refuse what
//   the engine cannot run before fetching its data) → quota check → Range download from the
//   stored offset, each chunk written, flushed and hashed, then the record (offset + SHA-256
//   state) rewritten, so a reload, a lost network or a closed tab resumes at the last chunk →
//   verify (size, sha256, full header parse) → ready.
// A file that fails verification is deleted; a partial file is never handed to the engine.

import { createSHA256, type IHasher } from 'hash-wasm';
import type { DownloadPhase, DownloadProgressCallback } from '../../engine-api';
import { APPROXIMATE_SIZE_TOLERANCE, isUnconfirmed, MAX_FILE_BYTES, type CatalogFile } from '../../schema/catalog';
import { EngineError, formatBytes, modelFileError } from '../errors';
import type { RandomAccessSource } from '../formats/byte-source';
import { httpRangeSource } from '../formats/http-sources';
import type { FileStore, WritableFile } from './file-store';
import { readModelHeader, variantOf } from './header-check';
import { RateMeter } from './rate-meter';
import { dataFileName, fromBase64, readRecord, recordFileName, removeStoredFile, toBase64, writeRecord, type StoredRecord } from './records';

type Fetch = typeof fetch;

export interface DownloadEnvironment {
  fetch: Fetch;
  files: FileStore;
  /** navigator.storage.estimate(); without it there is no quota check */
  estimate?: () => Promise<{ usage: number; quota: number }>;
  /** ms clock */
  now?: () => number;
  /** bytes per stored chunk; default: 1/64 of the file within [64 KiB, 8 MiB] */
  chunkBytes?: number;
  /** ms without a byte before a connection counts as stalled and is retried */
  stallMs?: number;
  /** data requests in a row that bring nothing before the download gives up (it can be resumed) */
  retries?: number;
  /** ms to wait before retry `attempt` (1, 2, …) */
  backoffMs?: (attempt: number) => number;
}

/** Why a download stops early: the user paused it (keep the partial) or cancelled it (delete it). */
export type StopReason = 'pause' | 'cancel';

export interface DownloadOptions {
  signal: AbortSignal;
  onProgress?: DownloadProgressCallback;
}

const MIN_CHUNK = 64 * 1024;
const MAX_CHUNK = 8 * 1024 * 1024;
/** tries again of a request that got no response at all */
const CONNECT_RETRIES = 2;
const NETWORK_ACTION = 'Check the internet connection, then press Resume: the download continues where it stopped.';

/** Downloads (or resumes) `file` into `env.files`; resolves with the verified record. */
export async function downloadFile(file: CatalogFile, env: DownloadEnvironment, options: DownloadOptions): Promise<StoredRecord> {
  const existing = await readRecord(env.files, file.id);
  if (existing?.status === 'ready' && sameSource(existing, file) && (await storedSize(env.files, file.id)) === existing.totalBytes) return existing;
  return new Download(file, env, options).run(existing);
}

function sameSource(record: StoredRecord, file: CatalogFile): boolean {
  return record.url === file.url && record.expectedSha256 === file.sha256;
}

async function storedSize(files: FileStore, fileId: string): Promise<number | undefined> {
  return (await files.source(dataFileName(fileId)))?.size;
}

class Download {
  private readonly fetch: Fetch;
  private readonly now: () => number;
  private readonly meter: RateMeter;
  private record!: StoredRecord;
  private data: WritableFile | undefined;
  private recordFile: WritableFile | undefined;
  private hasher!: IHasher;
  private phase: DownloadPhase = 'probe';
  /** the partial is known to be wrong: delete it whatever happens */
  private discardOnExit = false;

  constructor(
    private readonly file: CatalogFile,
    private readonly env: DownloadEnvironment,
    private readonly options: DownloadOptions,
  ) {
    this.fetch = (input, init) => this.fetchOnce(input, init);
    this.now = env.now ?? (() => performance.now());
    this.meter = new RateMeter(this.now);
  }

  async run(existing: StoredRecord | undefined): Promise<StoredRecord> {
    try {
      this.report('probe');
      const source = await this.probe();
      const notes = this.sizeNotes(source.size);
      const resumable = existing?.status === 'partial' && sameSource(existing, this.file) && existing.totalBytes === source.size;
      if (existing && !resumable) await removeStoredFile(this.env.files, this.file.id);
      this.record = resumable ? { ...existing, paused: false } : this.freshRecord(source.size, notes);
      if (existing && !resumable && existing.status === 'partial') this.record.notes.push('The file on the server changed since its download began: it started over.');
      if (this.record.offset === 0) await this.checkHeader(source);
      await this.checkQuota();
      await this.openFiles();
      await this.fetchData();
      return await this.verify();
    } catch (error) {
      if (this.discardOnExit) await this.discard();
      throw await this.stopped(error);
    } finally {
      await this.closeFiles();
    }
  }

  /**
   * A fetch with no referrer that does not fill the HTTP cache with gigabytes, tried again when it
   * fails before any response (a kept-alive connection the server had just closed, a network blip).
   */
  private async fetchOnce(input: RequestInfo | URL, init: RequestInit | undefined, attempt = 1): Promise<Response> {
    const signal = init?.signal ?? this.options.signal;
    try {
      return await this.env.fetch(input, { ...init, referrerPolicy: 'no-referrer', cache: 'no-store', signal });
    } catch (error) {
      if (signal.aborted || attempt > CONNECT_RETRIES) throw error;
      await sleep((this.env.backoffMs ?? defaultBackoff)(attempt), signal);
      return this.fetchOnce(input, init, attempt + 1);
    }
  }

  /**
   * GET bytes=0-0: the file's size and whether the server answers Range requests (a GET, as HEAD is
   * unreliable from browsers; HEAD only when a cross-origin server hides Content-Range).
   */
  private async probe(): Promise<RandomAccessSource> {
    const source = await httpRangeSource(this.file.url, this.fetch);
    this.throwIfStopped();
    return { ...source, name: this.file.name };
  }

  private sizeNotes(size: number): string[] {
    const { bytes, name } = this.file;
    const approximate = isUnconfirmed(this.file, 'bytes');
    const off = Math.abs(size - bytes) > (approximate ? APPROXIMATE_SIZE_TOLERANCE * bytes : 0);
    if (size > MAX_FILE_BYTES) throw modelFileError(name, `the server's file has ${formatBytes(size)}, over the 16 GiB a browser can store in one file`, 'Pick this file from your disk instead (Models › Use a file from this computer).');
    if (off) {
      throw modelFileError(name, `the catalog says ${bytes.toLocaleString('en')} bytes${approximate ? ' (approximately)' : ''}, but the server's file has ${size.toLocaleString('en')}`, 'The catalog entry is wrong or the file was replaced on the server: use an up-to-date catalog, or report it to whoever publishes the catalog.');
    }
    return approximate && size !== bytes ? [`The catalog gave the size only approximately; the server's ${size.toLocaleString('en')} bytes were used.`] : [];
  }

  private freshRecord(totalBytes: number, notes: string[]): StoredRecord {
    const { id, name, component, url, sha256 } = this.file;
    return {
      version: 1, fileId: id, name, component, url, totalBytes, expectedSha256: sha256, sha256Confirmed: sha256 !== undefined && !isUnconfirmed(this.file, 'sha256'),
      status: 'partial', offset: 0, notes, paused: false,
    };
  }

  /** Header by Range reads before any data: a file the engine cannot run is refused here. */
  private async checkHeader(source: RandomAccessSource): Promise<void> {
    this.report('header');
    const header = await readModelHeader(this.file.component, source);
    if (header.component === 'transformer' && this.file.variant && variantOf(header.config) !== this.file.variant) {
      throw modelFileError(this.file.name, `the catalog says FLUX.1 [${this.file.variant}], but the file is FLUX.1 [${variantOf(header.config)}]`, 'The catalog entry is wrong: use an up-to-date catalog, or report it to whoever publishes the catalog.');
    }
    this.throwIfStopped();
  }

  /** A quota shortfall is refused before the data is fetched, not found out gigabytes later. */
  private async checkQuota(): Promise<void> {
    if (!this.env.estimate) return;
    const needed = this.record.totalBytes - this.record.offset;
    const { usage, quota } = await this.env.estimate();
    const free = Math.max(0, quota - usage);
    if (free < needed) {
      throw new EngineError(
        'storage',
        `${this.file.name} needs ${formatBytes(needed)} more, but this site may store only ${formatBytes(free)} more (${formatBytes(usage)} of ${formatBytes(quota)} used).`,
        'Delete stored files you no longer need (Models › Stored files), allow persistent storage, free disk space, or pick the file from your disk instead.',
      );
    }
  }

  private async openFiles(): Promise<void> {
    this.recordFile = await this.env.files.open(recordFileName(this.file.id));
    this.data = await this.env.files.open(dataFileName(this.file.id));
    const stored = await this.data.size();
    this.hasher = await createSHA256();
    if (this.record.offset > 0 && (stored < this.record.offset || !this.loadHasher())) this.restart('Stored bytes did not match the download record: it started over.');
    // Bytes written after the last record belong to a chunk that was never accounted for.
    if (stored > this.record.offset) await this.data.truncate(this.record.offset);
    await writeRecord(this.recordFile, this.record);
  }

  private loadHasher(): boolean {
    try {
      this.hasher.load(fromBase64(this.record.hasherState ?? ''));
      return true;
    } catch {
      return false;
    }
  }

  private restart(note: string): void {
    this.hasher.init();
    this.record = { ...this.record, offset: 0, hasherState: undefined, notes: [...this.record.notes, note] };
  }

  /** Range requests from the stored offset until the file is complete, retrying what the network breaks. */
  private async fetchData(): Promise<void> {
    const retries = this.env.retries ?? 5;
    let failures = 0;
    this.report('download');
    while (this.record.offset < this.record.totalBytes) {
      const before = this.record.offset;
      try {
        await this.fetchFrom(before);
        failures = 0;
      } catch (error) {
        this.throwIfStopped();
        if (!isRetryable(error)) throw error;
        failures = this.record.offset > before ? 1 : failures + 1;
        if (failures > retries) {
          throw new EngineError('network', `Downloading ${this.file.name} failed ${failures} times in a row at byte ${this.record.offset.toLocaleString('en')}: ${(error as Error).message}`, NETWORK_ACTION);
        }
        await sleep((this.env.backoffMs ?? defaultBackoff)(failures), this.options.signal);
      }
    }
  }

  /** One Range request `bytes=offset-`, stored chunk by chunk as it arrives. */
  private async fetchFrom(offset: number): Promise<void> {
    const connection = new AbortController();
    const stop = () => connection.abort();
    this.options.signal.addEventListener('abort', stop);
    try {
      const response = await this.fetch(this.file.url, { headers: { Range: `bytes=${offset}-` }, signal: connection.signal });
      await this.checkDataResponse(response, offset);
      await this.storeBody(response.body!.getReader(), connection);
    } finally {
      this.options.signal.removeEventListener('abort', stop);
    }
  }

  private async checkDataResponse(response: Response, offset: number): Promise<void> {
    if (response.status === 206) {
      const range = /bytes (\d+)-(\d+)\/(\d+)/.exec(response.headers.get('content-range') ?? '');
      if (!range || (Number(range[1]) === offset && Number(range[3]) === this.record.totalBytes)) return;
      await response.body?.cancel();
      throw this.changedOnServer(`it answered bytes ${range[1]}-${range[2]} of ${range[3]} to a request for bytes from ${offset} of ${this.record.totalBytes}`);
    }
    await response.body?.cancel();
    if (response.status === 416) throw this.changedOnServer(`it refused bytes from ${offset} (416): the file is shorter now`);
    if (response.ok) throw new EngineError('network', `${this.file.name}: the server stopped answering Range requests (it answered ${response.status}).`, 'Try again later, or use a mirror that supports Range requests.');
    const error = new EngineError('network', `${this.file.name}: the server answered ${response.status} ${response.statusText}.`, NETWORK_ACTION);
    throw response.status >= 500 || response.status === 429 || response.status === 408 ? retryable(error) : error;
  }

  /** The partial download is wrong for what the server has now: deleted on the way out, so the next try starts over. */
  private changedOnServer(detail: string): EngineError {
    this.discardOnExit = true;
    return new EngineError('network', `${this.file.name} changed on the server: ${detail}.`, 'Press Download again to start this file over.');
  }

  private async storeBody(reader: ReadableStreamDefaultReader<Uint8Array>, connection: AbortController): Promise<void> {
    const chunkBytes = this.env.chunkBytes ?? Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, Math.ceil(this.record.totalBytes / 64)));
    const nextChunk = () => new Uint8Array(Math.min(chunkBytes, this.record.totalBytes - this.record.offset));
    let chunk = nextChunk();
    let filled = 0;
    // Bytes that arrived before the connection ended or broke are good: keep them.
    const commitTail = async () => {
      if (filled > 0 && !this.options.signal.aborted) await this.commit(chunk.subarray(0, filled));
    };
    for (;;) {
      let piece: ReadableStreamReadResult<Uint8Array>;
      try {
        piece = await this.readWithin(reader, connection);
      } catch (error) {
        await commitTail();
        throw error;
      }
      if (piece.done) break;
      for (let used = 0; used < piece.value.length; ) {
        const take = Math.min(piece.value.length - used, chunk.length - filled);
        if (take === 0) throw new EngineError('network', `${this.file.name}: the server sent more bytes than the file has.`, NETWORK_ACTION);
        chunk.set(piece.value.subarray(used, used + take), filled);
        filled += take;
        used += take;
        if (filled === chunk.length) {
          await this.commit(chunk);
          chunk = nextChunk();
          filled = 0;
        }
      }
    }
    await commitTail();
    if (this.record.offset < this.record.totalBytes) throw retryable(new Error(`the connection ended at byte ${this.record.offset}`));
  }

  /** The next piece of the body, or a retryable error when none comes for `stallMs`. */
  private async readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, connection: AbortController): Promise<ReadableStreamReadResult<Uint8Array>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        connection.abort();
        reject(retryable(new Error(`no data for ${(this.env.stallMs ?? 30_000) / 1000} s`)));
      }, this.env.stallMs ?? 30_000);
    });
    try {
      return await Promise.race([reader.read(), stalled]);
    } catch (error) {
      throw error instanceof EngineError || isRetryable(error) ? error : retryable(error as Error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Write, flush, hash, then record: a record never claims bytes that are not on disk. */
  private async commit(bytes: Uint8Array): Promise<void> {
    await this.data!.write(bytes, this.record.offset);
    await this.data!.flush();
    this.hasher.update(bytes);
    this.record = { ...this.record, offset: this.record.offset + bytes.length, hasherState: toBase64(this.hasher.save()) };
    await writeRecord(this.recordFile!, this.record);
    this.report('download');
  }

  private async verify(): Promise<StoredRecord> {
    this.report('verify');
    await this.data!.close();
    this.data = undefined;
    const { name } = this.file;
    try {
      const source = await this.env.files.source(dataFileName(this.file.id));
      if (source?.size !== this.record.totalBytes) throw modelFileError(name, `the stored file has ${source?.size ?? 0} bytes instead of ${this.record.totalBytes}`, 'Download it again.');
      const sha256 = this.hasher.digest('hex');
      const notes = [...this.record.notes, ...this.checkSha(sha256)];
      await readModelHeader(this.file.component, { ...source, name });
      this.record = { ...this.record, status: 'ready', sha256, hasherState: undefined, notes };
      await writeRecord(this.recordFile!, this.record);
      this.report('ready');
      return this.record;
    } catch (error) {
      await this.discard();
      throw error;
    }
  }

  private checkSha(sha256: string): string[] {
    const expected = this.record.expectedSha256;
    if (expected === undefined) return ['The catalog gives no sha256: the file was checked by its size and structure.'];
    if (sha256 === expected) return [];
    if (!this.record.sha256Confirmed) return [`Its sha256 ${sha256} differs from the catalog's second-hand ${expected}; its size and structure are right.`];
    throw modelFileError(this.file.name, `the downloaded bytes have sha256 ${sha256}, not the catalog's ${expected}: the download was corrupted on its way, so it was deleted`, 'Press Download to fetch it again; if this repeats, the catalog entry or the server is wrong.');
  }

  private async discard(): Promise<void> {
    await this.closeFiles();
    await removeStoredFile(this.env.files, this.file.id);
  }

  /** Turns a stop by the user into 'cancelled' (deleting the partial on cancel); other errors pass. */
  private async stopped(error: unknown): Promise<unknown> {
    const reason = this.options.signal.aborted ? (this.options.signal.reason as StopReason) : undefined;
    if (reason === undefined) return error;
    if (reason === 'cancel') {
      await this.discard();
      return new EngineError('cancelled', `The download of ${this.file.name} was cancelled and its partial file deleted.`, 'Press Download to start it again.');
    }
    if (this.recordFile && this.record) await writeRecord(this.recordFile, { ...this.record, paused: true });
    return new EngineError('cancelled', `The download of ${this.file.name} is paused at ${formatBytes(this.record?.offset ?? 0)}.`, 'Press Resume to continue where it stopped.');
  }

  private throwIfStopped(): void {
    if (this.options.signal.aborted) throw new EngineError('cancelled', 'stopped', 'stopped');
  }

  private async closeFiles(): Promise<void> {
    const open = [this.data, this.recordFile].filter((file) => file !== undefined);
    this.data = undefined;
    this.recordFile = undefined;
    await Promise.all(open.map((file) => file.close()));
  }

  private report(phase: DownloadPhase): void {
    if (phase !== this.phase && phase === 'download') this.meter.reset();
    this.phase = phase;
    const doneBytes = this.record?.offset ?? 0;
    const totalBytes = this.record?.totalBytes ?? this.file.bytes;
    if (phase === 'download') this.meter.add(doneBytes);
    const etaSeconds = phase === 'download' ? this.meter.etaSeconds(totalBytes - doneBytes) : undefined;
    this.options.onProgress?.({ fileId: this.file.id, phase, doneBytes, totalBytes, bytesPerSecond: phase === 'download' ? this.meter.bytesPerSecond : 0, ...(etaSeconds === undefined ? {} : { etaSeconds }) });
  }
}

const RETRYABLE = Symbol('retryable');

function retryable<E extends Error>(error: E): E {
  return Object.assign(error, { [RETRYABLE]: true });
}

/** Network failures worth another try: a fetch that threw, a dropped or stalled body, a 5xx. */
function isRetryable(error: unknown): boolean {
  if (error instanceof EngineError) return (error as unknown as Record<symbol, boolean>)[RETRYABLE] === true;
  return error instanceof Error;
}

function defaultBackoff(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** (attempt - 1));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
