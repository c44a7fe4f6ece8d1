// The downloader against a real loopback HTTP server that injects the faults of real networks
// and servers: resumes from the stored offset (checked on the wire: the Range header of the
// resumed request, and the bytes fetched in all), rejects and deletes corrupted or wrong files,
// refuses a K-quant file from its header before its data, and never reports a partial file as
// stored.

import { beforeEach, describe, expect, it } from 'vitest';
import type { DownloadProgress } from '../../../src/engine-api';
import { downloadFile, type DownloadEnvironment, type StopReason } from '../../../src/engine/store/downloader';
import { dataFileName, readRecord, recordFileName } from '../../../src/engine/store/records';
import type { CatalogFile } from '../../../src/schema/catalog';
import { kQuantFluxGguf, tinyTransformerFile } from '../../helpers/model-store-fixtures';
import { ModelFileHandler, startModelServer, type Fault } from '../../../tools/model-server';
import { MemoryFileStore } from './memory-file-store';
import { failure, serveForTests, sha256, transformerEntry } from './store-kit';

const CHUNK = 64 * 1024;
/** header reads go in 64 KiB read-aheads (formats/byte-cursor.ts); the tiny headers need one or two */
const HEADER_READ_LIMIT = 2 * 64 * 1024 + 2;

const transformer = tinyTransformerFile();
const kQuant = kQuantFluxGguf();
const handler = new ModelFileHandler({
  files: new Map([
    ['/models/flux.gguf', transformer],
    ['/models/flux-kquant.gguf', kQuant],
  ]),
});
const server = serveForTests(handler);
let files: MemoryFileStore;
beforeEach(() => {
  files = new MemoryFileStore();
});

const entry = (overrides: Partial<CatalogFile> = {}) => transformerEntry(server.url('/models/flux.gguf'), transformer, { variant: 'dev', ...overrides });

function environment(overrides: Partial<DownloadEnvironment> = {}): DownloadEnvironment {
  return { fetch, files, chunkBytes: CHUNK, stallMs: 500, retries: 3, backoffMs: () => 5, ...overrides };
}

function download(file: CatalogFile, env = environment(), signal = new AbortController().signal, onProgress?: (p: DownloadProgress) => void) {
  return downloadFile(file, env, { signal, onProgress });
}

const dataRequests = (path: string) => handler.log.filter((request) => request.path === path && request.range !== 'bytes=0-0' && request.method === 'GET');
/** the requests of the download proper: Range requests open at the end (header reads have an end) */
const downloadRequests = (path: string) => dataRequests(path).filter((request) => /^bytes=\d+-$/.test(request.range ?? ''));
const headerBytes = (path: string) => dataRequests(path).filter((request) => /^bytes=\d+-\d+$/.test(request.range ?? '')).reduce((sum, r) => sum + r.bytes, 0);
const storedBytes = () => files.files.get(dataFileName('tiny-flux'));
/** (toEqual on megabytes of typed array takes many seconds) */
const sameBytes = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.compare(a, b) === 0;

// Generous timeouts: these run beside SwiftShader suites on two shared cores.
describe('downloading a model file into the store', { timeout: 60_000 }, () => {
  it('probes with bytes=0-0, checks the header by Range reads, then stores a verified copy', async () => {
    const phases: string[] = [];
    const record = await download(entry(), environment(), undefined, (progress) => phases.push(progress.phase));
    expect(record.status).toBe('ready');
    expect(record.sha256).toBe(sha256(transformer));
    expect(sameBytes(storedBytes(), transformer)).toBe(true);
    expect(handler.log[0].range).toBe('bytes=0-0');
    expect([...new Set(phases)]).toEqual(['probe', 'header', 'download', 'verify', 'ready']);
    expect(headerBytes('/models/flux.gguf')).toBeLessThanOrEqual(HEADER_READ_LIMIT);
    expect(downloadRequests('/models/flux.gguf').map((request) => request.range)).toEqual(['bytes=0-']);
  });

  it('resumes from the stored offset after the connection drops mid-file, fetching under size + one chunk', async () => {
    const dropAt = Math.floor(transformer.length * 0.4) + 1234;
    let dropped = false;
    handler.faults = ({ range }) => (range === 'bytes=0-' && !dropped ? ((dropped = true), [{ kind: 'drop', afterBytes: dropAt }]) : []);
    const record = await download(entry());
    expect(record.status).toBe('ready');
    expect(sameBytes(storedBytes(), transformer)).toBe(true);
    const [first, resumed, ...more] = downloadRequests('/models/flux.gguf');
    expect(more).toEqual([]);
    expect(first.bytes).toBe(dropAt);
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(resumed.range!)![1]);
    // What arrived before the drop was kept; at most what was still in flight is fetched again.
    expect(resumedFrom).toBeGreaterThan(dropAt - CHUNK);
    expect(resumedFrom).toBeLessThanOrEqual(dropAt);
    expect(first.bytes + resumed.bytes).toBeLessThan(transformer.length + CHUNK);
  });

  it('resumes after the page is gone (a new download, same store) with the saved hash state', async () => {
    handler.faults = ({ range }) => (range === 'bytes=0-' ? [{ kind: 'drop', afterBytes: 5 * CHUNK + 100 }] : []);
    const interrupted = await failure(download(entry(), environment({ retries: 0 })));
    expect(interrupted.code).toBe('network');
    const saved = await readRecord(files, 'tiny-flux');
    expect(saved).toMatchObject({ status: 'partial', paused: false });
    expect(saved!.offset).toBeGreaterThanOrEqual(5 * CHUNK);
    // A write that landed after the last record (the tab closed between the two) must not count.
    files.files.set(dataFileName('tiny-flux'), new Uint8Array([...storedBytes()!, 1, 2, 3]));
    handler.faults = () => [];
    handler.log.length = 0;
    const record = await download(entry());
    expect(record.status).toBe('ready');
    expect(downloadRequests('/models/flux.gguf').map((request) => request.range)).toEqual([`bytes=${saved!.offset}-`]);
    expect(headerBytes('/models/flux.gguf')).toBe(0);
    expect(sameBytes(storedBytes(), transformer)).toBe(true);
  });

  it('rejects and deletes a corrupted download, then fetches it again', async () => {
    handler.faults = ({ range }) => (range === 'bytes=0-' ? [{ kind: 'corrupt', at: Math.floor(transformer.length / 2) }] : []);
    const corrupted = await failure(download(entry()));
    expect(corrupted.code).toBe('model-file');
    expect(corrupted.message).toMatch(/sha256 .* not the catalog's/);
    expect(await files.list()).toEqual([]);
    handler.faults = () => [];
    expect((await download(entry())).status).toBe('ready');
    expect(sameBytes(storedBytes(), transformer)).toBe(true);
  });

  it('retries a stalled connection and resumes where the bytes stopped', async () => {
    let stalls = 0;
    handler.faults = ({ range }) => (range?.endsWith('-') && stalls++ === 0 ? [{ kind: 'stall', afterBytes: 3 * CHUNK, ms: 3000 }] : []);
    const record = await download(entry(), environment({ stallMs: 300 }));
    expect(record.status).toBe('ready');
    const ranges = downloadRequests('/models/flux.gguf').map((request) => request.range);
    expect(ranges).toEqual(['bytes=0-', `bytes=${3 * CHUNK}-`]);
  });

  it('reports rate and time left while a slow server delivers', async () => {
    const slow = new ModelFileHandler({ files: new Map([['/models/flux.gguf', transformer]]), bytesPerSecond: 4 * 1024 * 1024 });
    const slowServer = await startModelServer(slow);
    try {
      const progress: DownloadProgress[] = [];
      await download(entry({ url: slowServer.url('/models/flux.gguf') }), environment(), undefined, (p) => progress.push(p));
      const measured = progress.filter((p) => p.phase === 'download' && p.etaSeconds !== undefined);
      expect(measured.length).toBeGreaterThan(3);
      for (const p of measured) expect(p.bytesPerSecond).toBeGreaterThan(0.5 * 1024 * 1024);
      expect(measured.at(-1)!.doneBytes).toBeGreaterThan(measured[0].doneBytes);
    } finally {
      await slowServer.close();
    }
  });

  it.each<[string, Fault, RegExp]>([
    ['404', { kind: 'status', status: 404 }, /answered 404/],
    ['no Range support', { kind: 'no-range' }, /ignores Range requests/],
    ['416 on the probe', { kind: 'status', status: 416 }, /answered 416/],
  ])('refuses a server that answers %s with a clear message and stores nothing', async (_, fault, message) => {
    handler.faults = () => [fault];
    const error = await failure(download(entry()));
    expect(error.code).toBe('network');
    expect(error.message).toMatch(message);
    expect(await files.list()).toEqual([]);
    expect(handler.bytesServed('/models/flux.gguf')).toBeLessThanOrEqual(fault.kind === 'no-range' ? transformer.length : 0);
  });

  it('starts over when the server answers 416 to a resume (the file became shorter)', async () => {
    handler.faults = ({ range }) => (range === 'bytes=0-' ? [{ kind: 'drop', afterBytes: 4 * CHUNK }] : []);
    await failure(download(entry(), environment({ retries: 0 })));
    handler.faults = ({ range }) => (range && /^bytes=[1-9]\d*-$/.test(range) ? [{ kind: 'status', status: 416 }] : []);
    const changed = await failure(download(entry()));
    expect(changed.message).toMatch(/changed on the server/);
    expect(await readRecord(files, 'tiny-flux')).toBeUndefined();
    handler.faults = () => [];
    handler.log.length = 0;
    expect((await download(entry())).status).toBe('ready');
    expect(downloadRequests('/models/flux.gguf')[0].range).toBe('bytes=0-');
  });

  it('refuses a K-quant transformer from its header, before downloading its data', async () => {
    const error = await failure(download(entry({ id: 'kquant', name: 'flux-kquant.gguf', url: server.url('/models/flux-kquant.gguf'), bytes: kQuant.length, sha256: undefined })));
    expect(error.code).toBe('model-file');
    expect(error.message).toMatch(/Q4_K, a K-quant/);
    expect(handler.bytesServed('/models/flux-kquant.gguf')).toBeLessThanOrEqual(HEADER_READ_LIMIT);
    expect(kQuant.length).toBeGreaterThan(20 * HEADER_READ_LIMIT);
    expect(await files.list()).toEqual([]);
  });

  it('refuses a catalog entry whose size is wrong, before any data; accepts an approximate one within 2%', async () => {
    const wrong = await failure(download(entry({ bytes: transformer.length + 1 })));
    expect(wrong.message).toMatch(/the catalog says .* but the server's file has/);
    expect(downloadRequests('/models/flux.gguf')).toEqual([]);
    const record = await download(entry({ bytes: Math.round(transformer.length * 1.01), unconfirmed: ['bytes'] }));
    expect(record.status).toBe('ready');
    expect(record.notes.join(' ')).toMatch(/approximately/);
  });

  it('refuses a schnell catalog entry whose file is dev', async () => {
    const error = await failure(download(entry({ variant: 'schnell' })));
    expect(error.message).toMatch(/catalog says FLUX.1 \[schnell\], but the file is FLUX.1 \[dev\]/);
    expect(downloadRequests('/models/flux.gguf')).toEqual([]);
  });

  it('keeps a file whose second-hand sha256 differs, saying so; one without a sha256 is checked by structure', async () => {
    const unconfirmed = await download(entry({ sha256: '0'.repeat(64), unconfirmed: ['sha256'] }));
    expect(unconfirmed.status).toBe('ready');
    expect(unconfirmed.notes.join(' ')).toMatch(/differs from the catalog's second-hand/);
    files = new MemoryFileStore();
    const unknown = await download(entry({ sha256: undefined }));
    expect(unknown.notes.join(' ')).toMatch(/no sha256/);
    expect(unknown.sha256).toBe(sha256(transformer));
  });

  it('refuses a download the quota cannot hold, before its data', async () => {
    const error = await failure(download(entry(), environment({ estimate: async () => ({ usage: 1000, quota: 1000 + transformer.length - 1 }) })));
    expect(error.code).toBe('storage');
    expect(error.message).toMatch(/needs .* more, but this site may store only/);
    expect(downloadRequests('/models/flux.gguf')).toEqual([]);
  });

  it.each<[StopReason, string]>([
    ['pause', 'keeps the partial file for a resume'],
    ['cancel', 'deletes the partial file'],
  ])('stops on %s and %s', async (reason) => {
    const paced = new ModelFileHandler({ files: new Map([['/models/flux.gguf', transformer]]), bytesPerSecond: 2 * 1024 * 1024 });
    const pacedServer = await startModelServer(paced);
    try {
      const stop = new AbortController();
      const stopped = failure(download(entry({ url: pacedServer.url('/models/flux.gguf') }), environment(), stop.signal, (p) => {
        if (p.doneBytes >= 4 * CHUNK) stop.abort(reason);
      }));
      expect((await stopped).code).toBe('cancelled');
      const record = await readRecord(files, 'tiny-flux');
      if (reason === 'pause') {
        expect(record).toMatchObject({ status: 'partial', paused: true });
        expect(record!.offset).toBeGreaterThanOrEqual(4 * CHUNK);
      } else {
        expect(record).toBeUndefined();
        expect(await files.list()).toEqual([]);
      }
    } finally {
      await pacedServer.close();
    }
  });

  it('gives up after the retries in a row that bring nothing, keeping the partial for a resume', async () => {
    handler.faults = ({ range }) => (range === 'bytes=0-' ? [{ kind: 'drop', afterBytes: 2 * CHUNK }] : range?.endsWith('-') ? [{ kind: 'status', status: 503 }] : []);
    const error = await failure(download(entry(), environment({ retries: 2 })));
    expect(error.code).toBe('network');
    expect(error.message).toMatch(/failed 3 times in a row at byte/);
    expect(downloadRequests('/models/flux.gguf')).toHaveLength(3);
    expect((await readRecord(files, 'tiny-flux'))?.offset).toBe(2 * CHUNK);
    expect(files.files.has(recordFileName('tiny-flux'))).toBe(true);
  });
});
