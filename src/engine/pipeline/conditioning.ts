// Prompt -> the transformer's conditioning: T5 embeddings [maxLength, 4096] and CLIP's pooled
// vector [768]. Encoders are loaded only for prompts not in the cache, and freed right after, so
// T5-XXL (5 GB at Q8_0) and the transformer never share the GPU. The cache is keyed by
// (encoder file, prompt, max length): a re-roll with another seed never re-runs T5.

import type { GpuRuntime } from '../gpu/runtime';
import { ClipTextEncoder } from '../models/clip/encoder';
import { loadClipWeights, releaseClipWeights } from '../models/clip/weights';
import { T5Encoder } from '../models/t5/encoder';
import { loadT5Weights, releaseT5Weights } from '../models/t5/weights';
import { CLIP_MAX_LENGTH } from '../text/clip-tokenizer';
import type { FluxModelFiles, ProgressListener, Tokenizers } from './models';

export interface Conditioning {
  /** T5 embeddings [maxLength, contextDim] (padded prompt, as FLUX runs T5) */
  text: Float32Array;
  textTokens: number;
  /** CLIP pooled [vecDim] */
  pooled: Float32Array;
}

/** In-memory cache of encoded prompts, least recently used dropped first. */
export class ConditioningCache {
  private readonly entries = new Map<string, Conditioning>();

  constructor(private readonly capacity = 64) {}

  get(key: string): Conditioning | undefined {
    const value = this.entries.get(key);
    if (value) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: Conditioning): void {
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** Encodes `prompts` (T5 padded to maxLength), from the cache where possible. */
export async function encodePrompts(
  gpu: GpuRuntime,
  files: Pick<FluxModelFiles, 't5' | 'clip'>,
  tokenizers: Tokenizers,
  prompts: readonly string[],
  maxLength: number,
  cache: ConditioningCache,
  onProgress?: ProgressListener,
): Promise<Conditioning[]> {
  const key = (prompt: string) => `${files.t5.id}|${files.clip.id}|${maxLength}|${prompt}`;
  const missing = [...new Set(prompts.filter((prompt) => !cache.get(key(prompt))))];
  if (missing.length) {
    const t5 = await encodeAll(missing, () => loadT5Encoder(gpu, files, onProgress), (encoder, prompt) => encoder.encode(tokenizers.t5.encode(prompt, maxLength).ids));
    const pooled = await encodeAll(missing, () => loadClipEncoder(gpu, files, onProgress), (encoder, prompt) => encoder.encode(tokenizers.clip.encode(prompt, CLIP_MAX_LENGTH)));
    missing.forEach((prompt, i) => cache.set(key(prompt), { text: t5[i], textTokens: maxLength, pooled: pooled[i] }));
  }
  return prompts.map((prompt) => cache.get(key(prompt))!);
}

interface Loaded<E> {
  encoder: E;
  release(): void;
}

async function encodeAll<E>(prompts: string[], load: () => Promise<Loaded<E>>, encode: (encoder: E, prompt: string) => Promise<Float32Array>): Promise<Float32Array[]> {
  const loaded = await load();
  try {
    const out: Float32Array[] = [];
    for (const prompt of prompts) out.push(await encode(loaded.encoder, prompt));
    return out;
  } finally {
    loaded.release();
  }
}

async function loadT5Encoder(gpu: GpuRuntime, files: Pick<FluxModelFiles, 't5'>, onProgress?: ProgressListener): Promise<Loaded<T5Encoder>> {
  const weights = await loadT5Weights(gpu, await files.t5.open(), ({ loadedBytes, totalBytes }) => onProgress?.({ stage: 'text encoders', done: loadedBytes, total: totalBytes }));
  const encoder = await T5Encoder.create(gpu, weights);
  return { encoder, release: () => (encoder.release(), releaseT5Weights(gpu, weights)) };
}

async function loadClipEncoder(gpu: GpuRuntime, files: Pick<FluxModelFiles, 'clip'>, onProgress?: ProgressListener): Promise<Loaded<ClipTextEncoder>> {
  const weights = await loadClipWeights(gpu, await files.clip.open(), ({ loadedBytes, totalBytes }) => onProgress?.({ stage: 'text encoders', done: loadedBytes, total: totalBytes }));
  const encoder = await ClipTextEncoder.create(gpu, weights);
  return { encoder, release: () => (encoder.release(), releaseClipWeights(gpu, weights)) };
}
