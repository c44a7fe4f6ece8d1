// The model store as the engine uses it: a partial download is never handed to the pipeline,
// two requests for one file share one download, "free space" keeps only what is asked, local
// files are checked by their header (and hashed on request), and requests are validated.

import { beforeEach, describe, expect, it } from 'vitest';
import type { DownloadProgress } from '../../../src/engine-api';
import { EngineError } from '../../../src/engine/errors';
import { blobSource } from '../../../src/engine/formats/byte-source';
import { readSafetensors } from '../../../src/engine/formats/safetensors';
import { encodeSafetensors } from '../../../src/engine/formats/safetensors-writer';
import { readModelHeader } from '../../../src/engine/store/header-check';
import { ModelStore } from '../../../src/engine/store/model-store';
import { dataFileName } from '../../../src/engine/store/records';
import { kQuantFluxGguf, tinyTransformerFile } from '../../helpers/model-store-fixtures';
import { ModelFileHandler } from '../../../tools/model-server';
import { MemoryFileStore } from './memory-file-store';
import { failure, serveForTests, sha256, transformerEntry } from './store-kit';

const transformer = tinyTransformerFile();
const handler = new ModelFileHandler({ files: new Map([['/models/flux.gguf', transformer]]), bytesPerSecond: 8 * 1024 * 1024 });
const server = serveForTests(handler);
let files: MemoryFileStore;
let store: ModelStore;
beforeEach(() => {
  files = new MemoryFileStore();
  store = new ModelStore({ files: async () => files, fetch, chunkBytes: 64 * 1024, backoffMs: () => 5 });
});

const entry = () => transformerEntry(server.url('/models/flux.gguf'), transformer);
const stored = { transformer: { stored: 'tiny-flux' } } as const;

describe('the model store', { timeout: 60_000 }, () => {
  it('never hands a partial download to the pipeline; a verified one opens as its bytes', async () => {
    let paused = false;
    const download = store.download(entry(), (progress) => {
      if (progress.doneBytes > transformer.length / 3 && !paused) {
        paused = true;
        void store.pause('tiny-flux');
      }
    });
    expect((await failure(download)).code).toBe('cancelled');
    const partial = await store.list();
    expect(partial).toMatchObject([{ fileId: 'tiny-flux', status: 'partial', interrupted: false }]);
    const lookup = await store.lookupFor({ ...stored } as never);
    const refused = (() => {
      try {
        lookup!.storedFile('tiny-flux');
      } catch (error) {
        return error as EngineError;
      }
    })();
    expect(refused?.code).toBe('storage');
    expect(refused?.message).toMatch(/only partly downloaded .* a partial file is never used/);

    const ready = await store.download(entry());
    expect(ready).toMatchObject({ status: 'ready', sha256: sha256(transformer), bytes: transformer.length });
    const file = (await store.lookup()).storedFile('tiny-flux');
    expect(file.sha256).toBe(sha256(transformer));
    const source = await file.open();
    expect(sha256(await source.read(0, source.size))).toBe(sha256(transformer));
    // opened as the published file (its name decides the format), so the loaders read it
    expect((await readModelHeader('transformer', source)).component).toBe('transformer');
  });

  it('joins a second request for a file being downloaded: one download, progress for both', async () => {
    const heard: [DownloadProgress[], DownloadProgress[]] = [[], []];
    const [first, second] = await Promise.all([store.download(entry(), (p) => heard[0].push(p)), store.download(entry(), (p) => heard[1].push(p))]);
    expect(second).toEqual(first);
    expect(handler.log.filter((request) => request.range === 'bytes=0-')).toHaveLength(1);
    expect(heard[1].at(-1)?.phase).toBe('ready');
  });

  it('frees partial downloads and files not kept, and reports what it freed', async () => {
    await store.download(entry());
    files.files.set('orphan.model', new Uint8Array(1000));
    expect(await store.freeStorage(['tiny-flux'])).toBe(1000);
    expect((await store.list()).map((file) => file.fileId)).toEqual(['tiny-flux']);
    const freed = await store.freeStorage([]);
    expect(freed).toBeGreaterThan(transformer.length);
    expect(await files.list()).toEqual([]);
  });

  it('lists a download the page left running as interrupted, so the app can resume it', async () => {
    handler.faults = ({ range }) => (range === 'bytes=0-' ? [{ kind: 'drop', afterBytes: 200_000 }] : []);
    try {
      await failure(new ModelStore({ files: async () => files, fetch, chunkBytes: 64 * 1024, retries: 0, backoffMs: () => 5 }).download(entry()));
    } finally {
      handler.faults = () => [];
    }
    expect(await store.list()).toMatchObject([{ status: 'partial', interrupted: true, totalBytes: transformer.length }]);
    expect((await store.list())[0].bytes).toBeGreaterThanOrEqual(3 * 64 * 1024);
  });

  it('checks a local file by its header, and hashes it when asked', async () => {
    const report = await store.checkFile({ component: 'transformer', source: { file: new Blob([transformer]), name: 'my-flux.gguf' }, hash: true });
    expect(report).toMatchObject({ component: 'transformer', variant: 'dev', bytes: transformer.length, sha256: sha256(transformer) });
    expect(report.summary).toMatch(/^FLUX\.1 \[dev\] transformer: 1 double \+ 2 single blocks, hidden 256; /);
    const kQuant = await failure(store.checkFile({ component: 'transformer', source: { file: new Blob([kQuantFluxGguf()]), name: 'k.gguf' } }));
    expect(kQuant.message).toMatch(/K-quant/);
    const wrongComponent = await failure(store.checkFile({ component: 't5', source: { file: new Blob([transformer]), name: 'my-flux.gguf' } }));
    expect(wrongComponent.code).toBe('model-file');
  });

  it('hands the loader a stored file in slices: a 24 MiB tensor is never read more than 8 MiB at once', async () => {
    const rows = 6 * 1024;
    const big = encodeSafetensors([{ name: 'big', dtype: 'F32', shape: [rows, 1024], bytes: new Uint8Array(4 * rows * 1024) }]);
    const file = new Blob(big as BlobPart[]);
    const reads: number[] = [];
    const source = blobSource(file, 'big.safetensors');
    const recorded = { ...source, read: (offset: number, length: number) => (reads.push(length), source.read(offset, length)) };
    const opened = await readSafetensors(recorded);
    let total = 0;
    for await (const chunk of opened.tensorChunks(['big'])) total += chunk.bytes.length;
    expect(total).toBe(4 * rows * 1024);
    expect(Math.max(...reads)).toBeLessThanOrEqual(8 * 2 ** 20);
  });

  it('refuses malformed requests as invalid input, naming the field', async () => {
    const badEntry = await failure(store.download({ ...entry(), bytes: -1 }));
    expect([badEntry.code, badEntry.message]).toEqual(['invalid-input', 'bytes: must be at least 1, got -1']);
    expect((await failure(store.cancel('../../etc'))).code).toBe('invalid-input');
    expect((await failure(store.checkFile({ component: 'unet' as never, source: { url: 'x.gguf' } }))).message).toMatch(/^component: must be one of/);
    expect(files.files.has(dataFileName('tiny-flux'))).toBe(false);
  });
});
