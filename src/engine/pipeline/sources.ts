// The engine API's model sources (a URL on a web server, or a file the user picked) as the
// pipeline's model file references, and the tokenizers built from their JSON files.

import type { ModelSet, ModelSource } from '../../engine-api';
import { blobSource } from '../formats/byte-source';
import { httpRangeSource } from '../formats/http-sources';
import { EngineError } from '../errors';
import { clipTokenizerJson } from '../text/clip-tokenizer-json';
import { createClipTokenizer } from '../text/clip-tokenizer';
import { createT5Tokenizer } from '../text/t5-tokenizer';
import type { FluxModelFiles, ModelFileRef, Tokenizers } from './models';

export function modelFileRef(source: ModelSource): ModelFileRef {
  if ('url' in source) return { id: source.url, open: () => httpRangeSource(source.url) };
  return { id: `${source.name}:${source.file.size}`, open: async () => blobSource(source.file, source.name) };
}

export function modelFiles(models: ModelSet): FluxModelFiles {
  return { transformer: modelFileRef(models.transformer), t5: modelFileRef(models.t5), clip: modelFileRef(models.clip), vae: modelFileRef(models.vae) };
}

async function text(source: ModelSource): Promise<string> {
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
    const name = 'url' in source ? source.url : source.name;
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
