// Model files and tokenizers from the local disk, for the CLI and the tests.

import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ModelFileRef, Tokenizers } from '../src/engine/pipeline/models';
import { clipTokenizerJson } from '../src/engine/text/clip-tokenizer-json';
import { createClipTokenizer } from '../src/engine/text/clip-tokenizer';
import { createT5Tokenizer } from '../src/engine/text/t5-tokenizer';
import { nodeFileSource } from './node-file-source';

/** The real FLUX tokenizer files committed as test fixtures (../shared/data/tokenizers). */
/** The real FLUX tokenizer files, shipped with the app (public/) and read by the tools and tests. */
export const APP_TOKENIZERS = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'public', 'tokenizers');

export function nodeFileRef(file: string): ModelFileRef {
  const { size } = statSync(file);
  return { id: `${path.basename(file)}:${size}`, open: () => nodeFileSource(file) };
}

/**
 * T5 from a folder with tokenizer.json and tokenizer_config.json; CLIP from a folder with the slow
 * tokenizer's vocab.json, merges.txt and tokenizer_config.json (what FLUX ships).
 */
export async function loadTokenizers(t5Dir = path.join(APP_TOKENIZERS, 't5-v1_1-xxl'), clipDir = path.join(APP_TOKENIZERS, 'clip-vit-large-patch14')): Promise<Tokenizers> {
  const json = (dir: string, name: string) => JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
  const [t5, clip] = await Promise.all([
    createT5Tokenizer(json(t5Dir, 'tokenizer.json'), json(t5Dir, 'tokenizer_config.json')),
    createClipTokenizer(clipTokenizerJson(json(clipDir, 'vocab.json'), readFileSync(path.join(clipDir, 'merges.txt'), 'utf8')), json(clipDir, 'tokenizer_config.json')),
  ]);
  return { t5, clip };
}
