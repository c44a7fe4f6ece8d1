// The engine API's model sources: files the user picked (Blobs) or URLs, as model file references
// and tokenizers, with typed errors for what a user can get wrong.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ModelSet, ModelSource } from '../../src/engine-api';
import { EngineError } from '../../src/engine/errors';
import { loadTokenizerSources, modelFileRef } from '../../src/engine/pipeline/sources';
import { APP_TOKENIZERS } from '../../tools/node-models';

const picked = (dir: string, name: string): ModelSource => ({ file: new Blob([readFileSync(path.join(APP_TOKENIZERS, dir, name))]), name });

function pickedTokenizers(): ModelSet['tokenizers'] {
  return {
    t5: { tokenizer: picked('t5-v1_1-xxl', 'tokenizer.json'), config: picked('t5-v1_1-xxl', 'tokenizer_config.json') },
    clip: {
      vocab: picked('clip-vit-large-patch14', 'vocab.json'),
      merges: picked('clip-vit-large-patch14', 'merges.txt'),
      config: picked('clip-vit-large-patch14', 'tokenizer_config.json'),
    },
  };
}

async function engineError(promise: Promise<unknown>): Promise<EngineError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(EngineError);
  return error as EngineError;
}

afterEach(() => vi.unstubAllGlobals());

describe('model sources', () => {
  it('builds both tokenizers from files the user picked', async () => {
    const { t5, clip } = await loadTokenizerSources(pickedTokenizers());
    expect(Array.from(t5.encode('In an empty background,', 6).ids)).toEqual([86, 46, 6364, 2458, 6, 1]);
    expect(Array.from(clip.encode('a photo of a cat', 77).ids.slice(0, 7))).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
  });

  it('names a picked tokenizer file that is not JSON', async () => {
    const tokenizers = { ...pickedTokenizers(), t5: { ...pickedTokenizers().t5, config: { file: new Blob(['<html>']), name: 'config.html' } } };
    const error = await engineError(loadTokenizerSources(tokenizers));
    expect([error.code, error.message]).toEqual(['model-file', 'config.html is not a JSON file.']);
  });

  it('reports a server error and an unreachable server as network errors', async () => {
    const url = 'https://models.example/vocab.json';
    const tokenizers = { ...pickedTokenizers(), clip: { ...pickedTokenizers().clip, vocab: { url } } };
    vi.stubGlobal('fetch', async () => new Response('missing', { status: 404 }));
    const notFound = await engineError(loadTokenizerSources(tokenizers));
    expect([notFound.code, notFound.message]).toEqual(['network', `${url}: the server answered 404.`]);
    vi.stubGlobal('fetch', async () => Promise.reject(new TypeError('fetch failed')));
    const offline = await engineError(loadTokenizerSources(tokenizers));
    expect(offline.code).toBe('network');
    expect(offline.action).toMatch(/internet connection/);
  });

  it('identifies a model file by its URL, or by the picked file name and size', () => {
    expect(modelFileRef({ url: 'https://models.example/flux.gguf' }).id).toBe('https://models.example/flux.gguf');
    expect(modelFileRef({ file: new Blob([new Uint8Array(10)]), name: 'ae.safetensors' }).id).toBe('ae.safetensors:10');
  });
});
