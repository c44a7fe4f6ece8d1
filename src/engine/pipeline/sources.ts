// The engine API's model sources (a URL on a web server, a file the user picked, or a verified
// file in the browser's model storage) as the pipeline's model file references, and the
// tokenizers built from their JSON files.

import type { ModelSet, ModelSource } from '../../engine-api';
import { blobSource, type RandomAccessSource } from '../formats/byte-source';
import { httpRangeSource } from '../formats/http-sources';
import { EngineError } from '../errors';
import { clipTokenizerJson } from '../text/clip-tokenizer-json';
import { createClipTokenizer } from '../text/clip-tokenizer';
import { createT5Tokenizer } from '../text/t5-tokenizer';
import type { FluxModelFiles, ModelFileRef, Tokenizers } from './models';

/** Verified files of the browser's model storage, by catalog file id (the worker's model store). */
export interface StoredFileLookup {
  /** Throws a typed error when the file is not stored and verified. */
  storedFile(fileId: string): StoredFileRef;
}

export interface StoredFileRef {
  /** the published file name: its extension decides the format */
  name: string;
  /** hex sha256 of the verified content */
  sha256: string;
  open(): Promise<RandomAccessSource>;
}

export function modelFileRef(source: ModelSource, stored?: StoredFileLookup): ModelFileRef {
  if ('url' in source) return { id: source.url, open: () => httpRangeSource(source.url) };
  if ('stored' in source) return storedFileRef(source.stored, stored);
  return { id: `${source.name}:${source.file.size}`, open: async () => blobSource(source.file, source.name) };
}

/** Cached encodings are keyed by content: the sha256, never the id alone (a file id can be downloaded again). */
function storedFileRef(fileId: string, stored: StoredFileLookup | undefined): ModelFileRef {
  if (!stored) throw new EngineError('storage', `Model file "${fileId}" is in browser storage, which is not available here.`, 'Give the model file as a URL or a local file instead.');
  const file = stored.storedFile(fileId);
  return { id: `sha256:${file.sha256}`, open: () => file.open() };
}

export function modelFiles(models: ModelSet, stored?: StoredFileLookup): FluxModelFiles {
  const ref = (source: ModelSource) => modelFileRef(source, stored);
  return { transformer: ref(models.transformer), t5: ref(models.t5), clip: ref(models.clip), vae: ref(models.vae) };
}

async function text(source: ModelSource): Promise<string> {
  if ('stored' in source) throw new EngineError('invalid-input', `Tokenizer files are not kept in model storage ("${source.stored}").`, 'Use the tokenizer files the app ships (public/tokenizers) or pick them as local files.');
  if ('file' in source) return source.file.text();
  let response: Response;
  try {
    response = await fetch(source.url);
  } catch (cause) {
    throw new EngineError('network', `Downloading ${source.url} failed: ${String(cause)}.`, 'Check the internet connection and try again.', { cause });
  }
  if (!response.ok) throw new EngineError('network', `${source.url}: the server answered ${response.status}.`, 'Check the address of the file, or try again later.');
  return response.text();
}

async function json(source: ModelSource): Promise<object> {
  const content = await text(source);
  try {
    return JSON.parse(content);
  } catch {
    const name = 'url' in source ? source.url : 'name' in source ? source.name : source.stored;
    throw new EngineError('model-file', `${name} is not a JSON file.`, 'Choose the tokenizer files of FLUX.1 (tokenizer.json, tokenizer_config.json, vocab.json).');
  }
}

export async function loadTokenizerSources(tokenizers: ModelSet['tokenizers']): Promise<Tokenizers> {
  const [t5Json, t5Config, vocab, merges, clipConfig] = await Promise.all([
    json(tokenizers.t5.tokenizer), json(tokenizers.t5.config), json(tokenizers.clip.vocab), text(tokenizers.clip.merges), json(tokenizers.clip.config),
  ]);
  const [t5, clip] = await Promise.all([createT5Tokenizer(t5Json, t5Config), createClipTokenizer(clipTokenizerJson(vocab as Record<string, number>, merges), clipConfig)]);
  return { t5, clip };
}
