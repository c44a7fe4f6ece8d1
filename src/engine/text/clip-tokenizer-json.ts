// Builds the fast-tokenizer tokenizer.json of CLIP from the slow tokenizer's vocab.json and
// merges.txt (what FLUX ships in `tokenizer/`). The structure is the one Hugging Face's
// CLIPConverter writes for CLIPTokenizerFast:
//   normalizer      NFC, every whitespace run → one space, lowercase
//   pre_tokenizer   split into CLIP's word pieces (contractions, letter runs, single digits, runs of
//                   other non-space characters; whitespace dropped), then bytes → GPT-2 unicode map
//   model           BPE over those symbols; the last symbol of each piece carries "</w>"
//   post_processor  <|startoftext|> text <|endoftext|>

import { EngineError } from '../errors';

const START_OF_TEXT = '<|startoftext|>';
const END_OF_TEXT = '<|endoftext|>';

/** CLIP's word-piece pattern (openai/CLIP simple_tokenizer.py), with its special tokens first. */
const CLIP_WORD_PIECES =
  "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

export type ClipVocab = Record<string, number>;

export function clipTokenizerJson(vocab: ClipVocab, mergesText: string): object {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [specialToken(vocab, START_OF_TEXT, true), specialToken(vocab, END_OF_TEXT, false)],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_WORD_PIECES }, behavior: 'Removed', invert: true },
        // No second regex split: GPT-2's pattern would not split CLIP's pieces any further.
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [END_OF_TEXT, vocab[END_OF_TEXT]],
      cls: [START_OF_TEXT, vocab[START_OF_TEXT]],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: END_OF_TEXT,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: parseMerges(vocab, mergesText),
    },
  };
}

/** merges.txt: a `#version` header, then one merge per line, "left right", in rank order. */
export function parseMerges(vocab: ClipVocab, mergesText: string): string[] {
  const lines = mergesText.split('\n').filter((line) => line.length > 0 && !line.startsWith('#version'));
  lines.forEach((line, index) => {
    const parts = line.split(' ');
    if (parts.length !== 2 || !Number.isInteger(vocab[parts[0] + parts[1]])) {
      throw clipFileError(`merges.txt rank ${index} ("${line}") is not a pair whose merge is in vocab.json`);
    }
  });
  return lines;
}

function specialToken(vocab: ClipVocab, content: string, normalized: boolean) {
  const id = vocab[content];
  if (!Number.isInteger(id)) throw clipFileError(`vocab.json has no ${content}`);
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized, special: true };
}

function clipFileError(detail: string): EngineError {
  return new EngineError(
    'model-file',
    `The CLIP tokenizer files are not usable: ${detail}.`,
    'Delete the downloaded CLIP tokenizer files so the app downloads them again.',
  );
}
