// The tokenizer folders the CLI reads (default: the files the app ships in public/tokenizers).

import { EngineError } from '../../src/engine/errors';
import type { Tokenizers } from '../../src/engine/pipeline/models';
import { loadTokenizers } from '../node-models';

export const T5_TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;
export const CLIP_TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json'] as const;

/** Tokenizers by folders: building one takes a while, and tests run many commands in one process. */
const built = new Map<string, Promise<Tokenizers>>();

/** Both tokenizers; a file that is not JSON is refused as a typed error naming the folder. */
export function tokenizersFrom(t5Folder?: string, clipFolder?: string): Promise<Tokenizers> {
  const key = JSON.stringify([t5Folder, clipFolder]);
  if (!built.has(key)) {
    const building = load(t5Folder, clipFolder);
    building.catch(() => built.delete(key));
    built.set(key, building);
  }
  return built.get(key)!;
}

async function load(t5Folder?: string, clipFolder?: string): Promise<Tokenizers> {
  try {
    return await loadTokenizers(t5Folder, clipFolder);
  } catch (error) {
    if (error instanceof EngineError) throw error;
    const folders = [t5Folder, clipFolder].filter(Boolean).join(' or ') || 'public/tokenizers';
    throw new EngineError('model-file', `The tokenizer files in ${folders} are not usable: ${(error as Error).message}.`, 'Give the tokenizer folders of FLUX.1 (tokenizer_2 for T5, tokenizer for CLIP), unchanged.', { cause: error });
  }
}
