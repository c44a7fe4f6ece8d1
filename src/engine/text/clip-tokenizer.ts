// FLUX's tokenizer: CLIP ViT-L/14 byte-level BPE (spec flux.md §4.3). `<|startoftext|>` (49406)
// first, `<|endoftext|>` (49407) after the text and as padding, 77 tokens in all.
//
// FLUX ships the slow tokenizer's vocab.json + merges.txt; clipTokenizerJson (clip-tokenizer-json.ts)
// turns them into the tokenizer.json this takes. Known gap: the slow tokenizer first runs ftfy
// (or, without ftfy, BERT's basic cleanup) — mojibake repair, HTML unescaping, spaces around CJK
// characters. Ordinary prompts are unaffected; such text may tokenize differently.

import { createTokenizer, type TextTokenizer, type TokenizerKind } from './tokenizer';

/** CLIP-L has 77 learned positions. */
export const CLIP_MAX_LENGTH = 77;

const CLIP: TokenizerKind = { name: 'CLIP', modelType: 'BPE', bosKey: 'bos_token', eosKey: 'eos_token', padKey: 'pad_token' };

/** From clipTokenizerJson(...) and the parsed tokenizer/tokenizer_config.json of FLUX. */
export function createClipTokenizer(tokenizerJson: object, configJson: object): Promise<TextTokenizer> {
  return createTokenizer(CLIP, tokenizerJson, configJson);
}
