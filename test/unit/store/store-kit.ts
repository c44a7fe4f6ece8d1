// What the model-store tests share: a loopback model server per test file (its log and faults
// cleared before each test), the catalog entry of a served file, and typed failures.

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { EngineError } from '../../../src/engine/errors';
import type { CatalogFile } from '../../../src/schema/catalog';
import { startModelServer, type ModelFileHandler } from '../../../tools/model-server';

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Serves `handler`'s files for the tests of this file. */
export function serveForTests(handler: ModelFileHandler): { url(path: string): string } {
  let server: Awaited<ReturnType<typeof startModelServer>> | undefined;
  beforeAll(async () => {
    server = await startModelServer(handler);
  });
  afterAll(() => server?.close());
  beforeEach(() => {
    handler.log.length = 0;
    handler.faults = () => [];
  });
  return { url: (path) => server!.url(path) };
}

/** The catalog entry of a served tiny transformer, with its real size and sha256. */
export function transformerEntry(url: string, bytes: Uint8Array, overrides: Partial<CatalogFile> = {}): CatalogFile {
  return { id: 'tiny-flux', component: 'transformer', name: 'flux.gguf', url, bytes: bytes.length, sha256: sha256(bytes), licence: 'apache-2.0', ...overrides };
}

/** The typed error a promise rejects with (the test fails if it resolves or throws anything else). */
export async function failure(promise: Promise<unknown>): Promise<EngineError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(EngineError);
  return error as EngineError;
}
