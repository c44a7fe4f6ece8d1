// Text → padded token ids for the FLUX text encoders, on top of @huggingface/tokenizers.
//
// The library is imported directly rather than through @huggingface/transformers: transformers'
// entry point also loads onnxruntime-web and its WASM glue, which the generation path never uses
// (our encoders are WGSL), while PreTrainedTokenizer is only a thin wrapper around this package's
// Tokenizer. It is imported lazily so the worker's first chunk stays small.
//
// Special tokens and padding are applied here, not by the library: the library truncates by
// cutting the tail, which would drop the EOS, whereas FLUX truncates the text so that EOS fits.

import type { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { EngineError, invalidInput } from '../errors';

/** A prompt encoded for one text encoder. */
export interface Encoding {
  /** [maxLength] token ids: optional BOS, the (possibly truncated) text, EOS, then padding. */
  ids: Int32Array;
  /** Tokens before the EOS (BOS included where there is one) = index of the EOS in `ids`. */
  length: number;
}

export interface TextTokenizer {
  /** Ids of `text` alone: no special tokens, no truncation. */
  textIds(text: string): Int32Array;
  /** Deterministic: the same text and maxLength always give the same ids. */
  encode(text: string, maxLength: number): Encoding;
}

/** How an encoder frames the text: ids of the special tokens it adds. */
interface SpecialIds {
  bos?: number;
  eos: number;
  pad: number;
}

/** Which special tokens a tokenizer needs, by tokenizer_config.json key (e.g. 'eos_token'). */
export interface TokenizerKind {
  /** For messages: "T5", "CLIP". */
  name: string;
  /** `model.type` of a matching tokenizer.json. */
  modelType: string;
  bosKey?: string;
  eosKey: string;
  padKey: string;
}

/** Builds a tokenizer from parsed tokenizer.json and tokenizer_config.json objects. */
export async function createTokenizer(kind: TokenizerKind, tokenizerJson: object, configJson: object): Promise<TextTokenizer> {
  checkModelType(kind, tokenizerJson);
  const library = await loadLibraryTokenizer(kind, tokenizerJson, configJson);
  const special = specialIds(kind, library, configJson as Record<string, unknown>);
  const textIds = (text: string) => Int32Array.from(library.encode(text, { add_special_tokens: false }).ids);
  return {
    textIds,
    encode: (text, maxLength) => frameTokens(textIds(text), special, maxLength),
  };
}

/** `[BOS] text[..fits] EOS PAD…` in exactly maxLength ids; the text is cut so that EOS always fits. */
function frameTokens(text: Int32Array, special: SpecialIds, maxLength: number): Encoding {
  const prefix = special.bos === undefined ? [] : [special.bos];
  const textRoom = maxLength - prefix.length - 1;
  if (!Number.isInteger(maxLength) || textRoom < 0) {
    throw invalidInput(
      `Token sequence length must be an integer of at least ${prefix.length + 1}, got ${maxLength}.`,
      'This is a bug in the app, not in your input: please report it.',
    );
  }
  const ids = new Int32Array(maxLength).fill(special.pad);
  ids.set(prefix);
  ids.set(text.subarray(0, textRoom), prefix.length);
  const length = prefix.length + Math.min(text.length, textRoom);
  ids[length] = special.eos;
  return { ids, length };
}

async function loadLibraryTokenizer(kind: TokenizerKind, tokenizerJson: object, configJson: object): Promise<HfTokenizer> {
  const { Tokenizer } = await import('@huggingface/tokenizers');
  try {
    return new Tokenizer(tokenizerJson, configJson);
  } catch (cause) {
    throw tokenizerFileError(kind, String(cause), cause);
  }
}

function checkModelType(kind: TokenizerKind, tokenizerJson: object): void {
  const model = (tokenizerJson as { model?: { type?: unknown } } | null)?.model;
  if (model?.type !== kind.modelType) {
    throw tokenizerFileError(kind, `its model type is ${String(model?.type)}, expected ${kind.modelType}`);
  }
}

function specialIds(kind: TokenizerKind, library: HfTokenizer, config: Record<string, unknown>): SpecialIds {
  const idOf = (key: string): number => {
    const entry = config[key];
    const content = typeof entry === 'string' ? entry : (entry as { content?: unknown } | undefined)?.content;
    const id = typeof content === 'string' ? library.token_to_id(content) : undefined;
    if (id === undefined) throw tokenizerFileError(kind, `tokenizer_config.json has no usable ${key}`);
    return id;
  };
  return {
    ...(kind.bosKey === undefined ? {} : { bos: idOf(kind.bosKey) }),
    eos: idOf(kind.eosKey),
    pad: idOf(kind.padKey),
  };
}

function tokenizerFileError(kind: TokenizerKind, detail: string, cause?: unknown): EngineError {
  return new EngineError(
    'model-file',
    `The ${kind.name} tokenizer files are not usable: ${detail}.`,
    `Delete the downloaded ${kind.name} tokenizer files so the app downloads them again.`,
    { cause },
  );
}
