import { Tokenizer } from '@huggingface/tokenizers';
import { beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import { CLIP_MAX_LENGTH, createClipTokenizer } from '../../src/engine/text/clip-tokenizer';
import { clipTokenizerJson } from '../../src/engine/text/clip-tokenizer-json';
import { createT5Tokenizer, T5_MAX_LENGTH } from '../../src/engine/text/t5-tokenizer';
import type { TextTokenizer } from '../../src/engine/text/tokenizer';
import { freshSeed, randomInt } from '../helpers/random';
import { clipFiles, loadClip, loadT5, randomText, t5Files } from './tokenizer-inputs';
import { referenceClipIds, referenceT5Ids } from './tokenizer-reference';

const T5_EOS = 1;
const T5_PAD = 0;
const CLIP_BOS = 49406;
const CLIP_EOS = 49407;

/** Characters that are T5 pieces on their own and need no normalization. */
const T5_PLAIN_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?\'"-()[]/&%$#@*+=_|      ';
const CLIP_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"-()[]{}<>/%$#@*+=_|~^`éüñßÆ日本語½€😀   \t\n";

async function rejection(promise: Promise<unknown>): Promise<EngineError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(EngineError);
  return error as EngineError;
}

function thrown(action: () => unknown): EngineError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    return error as EngineError;
  }
  throw new Error('expected an EngineError');
}

describe('T5 tokenizer (FLUX tokenizer_2)', () => {
  let t5: TextTokenizer;
  beforeAll(async () => {
    t5 = await loadT5();
  });

  it('matches the ids and counts of the CharaConsist notebook logs', () => {
    expect([...t5.textIds('In an empty background,')]).toEqual([86, 46, 6364, 2458, 6]);
    expect(t5.textIds('In a deserted alleyway at night, within a circle of light on the ground,')).toHaveLength(22);
  });

  it.each(Object.entries(T5_MAX_LENGTH))('appends EOS (1) and pads with 0 to %s length %i', (_variant, maxLength) => {
    const { ids, length } = t5.encode('In an empty background,', maxLength);
    expect(ids).toBeInstanceOf(Int32Array);
    expect(ids).toHaveLength(maxLength);
    expect(length).toBe(5);
    expect([...ids.subarray(0, 6)]).toEqual([86, 46, 6364, 2458, 6, T5_EOS]);
    expect(ids.subarray(6).every((id) => id === T5_PAD)).toBe(true);
  });

  it('truncates the text so that EOS still fits', () => {
    const text = 'the cat sat on the mat, '.repeat(60);
    const full = t5.textIds(text);
    expect(full.length).toBeGreaterThan(T5_MAX_LENGTH.dev);
    for (const maxLength of Object.values(T5_MAX_LENGTH)) {
      const { ids, length } = t5.encode(text, maxLength);
      expect(length).toBe(maxLength - 1);
      expect([...ids.subarray(0, length)]).toEqual([...full.subarray(0, length)]);
      expect(ids[maxLength - 1]).toBe(T5_EOS);
    }
  });

  it('gives a lone EOS for empty text and for text the normalizer removes', () => {
    for (const text of ['', '   ', '\u0001\u0002']) {
      const { ids, length } = t5.encode(text, 8);
      expect(length).toBe(0);
      expect([...ids]).toEqual([T5_EOS, 0, 0, 0, 0, 0, 0, 0]);
    }
  });

  it('collapses runs of spaces and ignores trailing ones (Strip right, " {2,}" → "▁")', () => {
    expect([...t5.textIds('the  cat   sat  ')]).toEqual([...t5.textIds('the cat sat')]);
  });

  it('maps characters missing from the vocabulary to <unk> (2), one per run', () => {
    const pieces = new Set(t5Files.tokenizer.model.vocab.map(([piece]) => piece));
    expect(['{', '}', '▁{', '▁}'].some((piece) => pieces.has(piece))).toBe(false);
    // "▁a" is not a piece: "a" is "▁" (3) + "a" (9); "▁b" likewise (3, 115).
    expect([...t5.textIds('a {{}} b')]).toEqual([3, 9, 3, 2, 3, 115]);
  });

  it('matches a plain Unigram Viterbi on random space-separated text', () => {
    const seed = freshSeed('t5 random text');
    const pieces = t5Files.tokenizer.model.vocab.slice(0, 32000);
    for (let i = 0; i < 100; i++) {
      const text = randomText(seed, T5_PLAIN_ALPHABET, randomInt(seed, 1, 120));
      expect([...t5.textIds(text)], JSON.stringify(text)).toEqual(referenceT5Ids(text, pieces));
    }
  });

  it('is deterministic across calls and instances', async () => {
    const text = 'A bright office, a computer desk, a window in the background,';
    const again = await loadT5();
    expect([...t5.encode(text, 256).ids]).toEqual([...t5.encode(text, 256).ids]);
    expect([...again.encode(text, 256).ids]).toEqual([...t5.encode(text, 256).ids]);
  });

  it('rejects a sequence length without room for EOS', () => {
    expect(thrown(() => t5.encode('cat', 0)).code).toBe('invalid-input');
    expect(thrown(() => t5.encode('cat', 2.5)).code).toBe('invalid-input');
  });

  it('rejects a tokenizer.json of another model type', async () => {
    const clipJson = clipTokenizerJson(clipFiles.vocab, clipFiles.merges);
    const error = await rejection(createT5Tokenizer(clipJson, t5Files.config));
    expect(error.code).toBe('model-file');
    expect(error.message).toMatch(/BPE.*Unigram/);
  });
});

describe('CLIP tokenizer (FLUX tokenizer)', () => {
  let clip: TextTokenizer;
  beforeAll(async () => {
    clip = await loadClip();
  });

  it('encodes "a photo of a cat" as BOS 320 1125 539 320 2368 EOS, padded with EOS to 77', () => {
    const { ids, length } = clip.encode('a photo of a cat', CLIP_MAX_LENGTH);
    expect(ids).toHaveLength(77);
    expect(length).toBe(6);
    expect([...ids.subarray(0, 7)]).toEqual([CLIP_BOS, 320, 1125, 539, 320, 2368, CLIP_EOS]);
    expect(ids.subarray(7).every((id) => id === CLIP_EOS)).toBe(true);
  });

  it('adds BOS/EOS through the converted post-processor too', () => {
    const library = new Tokenizer(clipTokenizerJson(clipFiles.vocab, clipFiles.merges), clipFiles.config);
    expect(library.encode('a photo of a cat').ids).toEqual([CLIP_BOS, 320, 1125, 539, 320, 2368, CLIP_EOS]);
  });

  // Each id below is the vocab.json entry of the symbol named; splits follow CLIP's rules by hand.
  it.each([
    // Lowercased first, so capitals change nothing; "!!" is one piece: merge "! !</w>" (rank 236) → "!!</w>".
    ['A Photo OF a CAT!!', [320, 1125, 539, 320, 2368, 748]],
    // Contractions are split off: "it</w>" 585, "'s</w>" 568.
    ["it's", [585, 568]],
    // Numbers are single digits, each its own word: "2</w>" 273, "0</w>" 271, "4</w>" 275, ","</w> 267.
    ['2024, 3.14', [273, 271, 273, 275, 267, 274, 269, 272, 275]],
    // Whitespace of any kind and length only separates words: "multiple</w>" 6470, "spaces</w>" 9006, "and</w>" 537.
    ['  multiple \t  spaces\n\nand ', [6470, 9006, 537]],
    // "characonsist": a r (4), o n (9), c h (28), s t</w> (33), a c (34), s i (52), ch ar (542),
    // char ac (2280), si st</w> (20008); no merge joins "charac", "on", "sist</w>" → 2792 521 20520.
    ['characonsist', [2792, 521, 20520]],
    // UTF-8 bytes through the GPT-2 byte map: "é" is bytes C3 A9 = symbols "Ã©"; "cafÃ©</w>" is 15304.
    ['café', [15304]],
    // NFC first: "e" + combining acute (U+0301) becomes "é", so the decomposed spelling gives the same id.
    ['cafe\u0301', [15304]],
  ])('splits %j as CLIP does', (text, expected) => {
    expect([...clip.textIds(text)]).toEqual(expected);
  });

  it('truncates to 75 text tokens between BOS and EOS', () => {
    const text = 'a photo of a cat '.repeat(30);
    const { ids, length } = clip.encode(text, CLIP_MAX_LENGTH);
    expect(length).toBe(76);
    expect(ids[0]).toBe(CLIP_BOS);
    expect(ids[76]).toBe(CLIP_EOS);
    expect([...ids.subarray(1, 76)]).toEqual([...clip.textIds(text).subarray(0, 75)]);
  });

  it('matches CLIP BPE (merge the lowest-ranked pair everywhere, repeat) on random text', () => {
    const seed = freshSeed('clip random text');
    for (let i = 0; i < 100; i++) {
      const text = randomText(seed, CLIP_ALPHABET, randomInt(seed, 1, 120));
      expect([...clip.textIds(text)], JSON.stringify(text)).toEqual(referenceClipIds(text, clipFiles.vocab, clipFiles.merges));
    }
  });
});

describe('CLIP tokenizer.json converter', () => {
  it('keeps the whole vocabulary and every merge in rank order', () => {
    const json = clipTokenizerJson(clipFiles.vocab, clipFiles.merges) as { model: { vocab: object; merges: string[] } };
    expect(Object.keys(json.model.vocab)).toHaveLength(49408);
    expect(json.model.merges).toHaveLength(48894);
    expect(json.model.merges.slice(0, 2)).toEqual(clipFiles.merges.split('\n').slice(1, 3));
  });

  it('rejects merges that do not belong to the vocabulary', () => {
    const error = thrown(() => clipTokenizerJson(clipFiles.vocab, '#version: 0.2\ni n\nzq xj\n'));
    expect(error.code).toBe('model-file');
    expect(error.message).toContain('rank 1');
  });

  it('rejects a vocabulary without the special tokens', () => {
    const { ['<|startoftext|>']: _dropped, ...vocab } = clipFiles.vocab;
    expect(thrown(() => clipTokenizerJson(vocab, clipFiles.merges)).message).toContain('<|startoftext|>');
  });

  it('builds a tokenizer whose special ids come from tokenizer_config.json', async () => {
    const noPad = { ...clipFiles.config, pad_token: undefined };
    const error = await rejection(createClipTokenizer(clipTokenizerJson(clipFiles.vocab, clipFiles.merges), noPad));
    expect(error.code).toBe('model-file');
    expect(error.message).toContain('pad_token');
  });
});
