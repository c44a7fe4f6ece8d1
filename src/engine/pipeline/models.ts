// Where a generation's model files come from. A ByteSource may be one-shot (a fetch stream), so
// each model is given as a function that opens a fresh source; `id` names the file for caches.

import type { ByteSource } from '../formats/byte-source';
import type { TextTokenizer } from '../text/tokenizer';

export interface ModelFileRef {
  /** stable identity of the file's content (name and size, or a hash), for caches */
  id: string;
  open(): Promise<ByteSource>;
}

export interface FluxModelFiles {
  transformer: ModelFileRef;
  t5: ModelFileRef;
  clip: ModelFileRef;
  vae: ModelFileRef;
}

export interface Tokenizers {
  t5: TextTokenizer;
  clip: TextTokenizer;
}

export interface LoadProgressEvent {
  stage: 'text encoders' | 'transformer' | 'vae' | 'sampling' | 'decoding';
  done: number;
  total: number;
}

export type ProgressListener = (progress: LoadProgressEvent) => void;
