// What the store knows about each file, kept beside it as `<id>.record.json` and rewritten after
// every stored chunk: where the download stands (bytes stored and hashed, the SHA-256 state
// after them) or the verified result. A record that does not parse is treated as absent: the
// download then starts over rather than trusting bytes it cannot account for.

import * as v from 'valibot';
import { MODEL_COMPONENTS } from '../../schema/catalog';
import type { FileStore, WritableFile } from './file-store';
import { readText, replaceText } from './file-store';

const RecordSchema = v.object({
  version: v.literal(1),
  fileId: v.string(),
  name: v.string(),
  component: v.picklist(MODEL_COMPONENTS),
  url: v.string(),
  /** bytes of the whole file, as the server reported when the download started */
  totalBytes: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** the catalog's sha256, and whether the catalog vouches for it */
  expectedSha256: v.optional(v.string()),
  sha256Confirmed: v.boolean(),
  status: v.picklist(['partial', 'ready']),
  /** bytes stored and hashed, from the start of the file */
  offset: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** hash-wasm SHA-256 state after `offset` bytes, base64 */
  hasherState: v.optional(v.string()),
  /** ready: the content's sha256 */
  sha256: v.optional(v.string()),
  notes: v.array(v.string()),
  /** the user paused it (a partial download that is not paused was interrupted) */
  paused: v.boolean(),
});

export type StoredRecord = v.InferOutput<typeof RecordSchema>;

export const dataFileName = (fileId: string) => `${fileId}.model`;
export const recordFileName = (fileId: string) => `${fileId}.record.json`;
const RECORD_SUFFIX = '.record.json';

export async function readRecord(store: FileStore, fileId: string): Promise<StoredRecord | undefined> {
  const text = await readText(store, recordFileName(fileId));
  if (text === undefined) return undefined;
  try {
    const parsed = v.safeParse(RecordSchema, JSON.parse(text));
    return parsed.success && parsed.output.fileId === fileId ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}

export function writeRecord(file: WritableFile, record: StoredRecord): Promise<void> {
  return replaceText(file, JSON.stringify(record));
}

/** Every readable record in the store. */
export async function listRecords(store: FileStore): Promise<StoredRecord[]> {
  const names = (await store.list()).map((file) => file.name).filter((name) => name.endsWith(RECORD_SUFFIX));
  const records = await Promise.all(names.map((name) => readRecord(store, name.slice(0, -RECORD_SUFFIX.length))));
  return records.filter((record) => record !== undefined);
}

/** Deletes a file's data and record. */
export async function removeStoredFile(store: FileStore, fileId: string): Promise<void> {
  await store.remove(dataFileName(fileId));
  await store.remove(recordFileName(fileId));
}

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}
