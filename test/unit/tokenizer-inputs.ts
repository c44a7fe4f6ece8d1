// Inputs of the tokenizer tests: the real FLUX tokenizer files (public/tokenizers, shipped with the app) and
// random text.

import { readFileSync } from 'node:fs';
import { clipTokenizerJson, type ClipVocab } from '../../src/engine/text/clip-tokenizer-json';
import { createClipTokenizer } from '../../src/engine/text/clip-tokenizer';
import { createT5Tokenizer } from '../../src/engine/text/t5-tokenizer';
import { randomArray } from '../helpers/random';

const fixture = (path: string) => readFileSync(new URL(`../../public/tokenizers/${path}`, import.meta.url), 'utf8');
const fixtureJson = (path: string) => JSON.parse(fixture(path));

export const t5Files = {
  tokenizer: fixtureJson('t5-v1_1-xxl/tokenizer.json') as { model: { vocab: [string, number][] } },
  config: fixtureJson('t5-v1_1-xxl/tokenizer_config.json') as object,
};

export const clipFiles = {
  vocab: fixtureJson('clip-vit-large-patch14/vocab.json') as ClipVocab,
  merges: fixture('clip-vit-large-patch14/merges.txt'),
  config: fixtureJson('clip-vit-large-patch14/tokenizer_config.json') as object,
};

export const loadT5 = () => createT5Tokenizer(t5Files.tokenizer, t5Files.config);
export const loadClip = () => createClipTokenizer(clipTokenizerJson(clipFiles.vocab, clipFiles.merges), clipFiles.config);

/** `length` characters drawn uniformly from `alphabet` (a string of code points). */
export function randomText(seed: number, alphabet: string, length: number): string {
  const symbols = [...alphabet];
  return Array.from(randomArray(seed, length, 0, 1), (u) => symbols[Math.floor(u * symbols.length)]).join('');
}
