// FLUX's tokenizer_2: T5 v1.1 XXL SentencePiece Unigram (spec flux.md §4.3). The text is followed
// by `</s>` (1) and padded with `<pad>` (0); no BOS.

import { createTokenizer, type TextTokenizer, type TokenizerKind } from './tokenizer';

/** T5 sequence length FLUX pads to, per model variant (BFL `max_length`). */
export const T5_MAX_LENGTH = { dev: 512, schnell: 256 } as const;

const T5: TokenizerKind = { name: 'T5', modelType: 'Unigram', eosKey: 'eos_token', padKey: 'pad_token' };

/** From the parsed tokenizer_2/tokenizer.json and tokenizer_2/tokenizer_config.json of FLUX. */
export function createT5Tokenizer(tokenizerJson: object, configJson: object): Promise<TextTokenizer> {
  return createTokenizer(T5, tokenizerJson, configJson);
}
