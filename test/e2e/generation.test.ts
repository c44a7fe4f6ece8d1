// Text to image inside the worker of the built app, in headless Chromium (WebGPU on SwiftShader),
// from tiny models served over HTTP: the browser's result equals the same pipeline run in Node
// on Dawn.

import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ConditioningCache } from '../../src/engine/pipeline/conditioning';
import { txt2img } from '../../src/engine/pipeline/txt2img';
import { relativeError } from '../../src/engine/reference/compare';
import { openNodeGpu } from '../../tools/node-gpu';
import { loadTokenizers, nodeFileRef } from '../../tools/node-models';
import { appSession } from './browser';
import { E2E_MODELS_DIR, MODEL_FILES, modelSet } from './models';

const baseUrl = inject('baseUrl');
const REQUEST = { prompt: 'a red fox in the snow', width: 32, height: 48, steps: 2, seed: 11, maxSequenceLength: 16 };

describe('text to image in the worker (headless Chromium)', () => {
  const app = appSession(baseUrl);

  it('loads the model files over HTTP and gives the image the Node pipeline gives', async () => {
    const models = modelSet(new URL(baseUrl).origin);
    const browser = await app.page.evaluate(
      async ({ models, request }) => {
        type Engine = { generateImage(r: object): Promise<{ rgba: Uint8Array; latents: Float32Array; width: number; height: number }> };
        const engine = (globalThis as unknown as { characonsistEngine: Engine }).characonsistEngine;
        const result = await engine.generateImage({ models, ...request });
        return { width: result.width, height: result.height, rgba: Array.from(result.rgba), latents: Array.from(result.latents) };
      },
      { models, request: REQUEST },
    );
    expect([browser.width, browser.height]).toEqual([REQUEST.width, REQUEST.height]);

    const gpu = await openNodeGpu({ software: true });
    try {
      const file = (name: string) => nodeFileRef(path.join('dist', E2E_MODELS_DIR, name));
      const files = { transformer: file(MODEL_FILES.transformer), t5: file(MODEL_FILES.t5), clip: file(MODEL_FILES.clip), vae: file(MODEL_FILES.vae) };
      const node = await txt2img(gpu, files, await loadTokenizers(), new ConditioningCache(), REQUEST);
      expect(relativeError(browser.latents, node.latents[node.latents.length - 1])).toBeLessThan(1e-4);
      const largestByteDifference = browser.rgba.reduce((max, value, i) => Math.max(max, Math.abs(value - node.rgba[i])), 0);
      expect(largestByteDifference).toBeLessThanOrEqual(1);
    } finally {
      gpu.destroy();
    }
  });
});
