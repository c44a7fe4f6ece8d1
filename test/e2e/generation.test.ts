// Text to image and a CharaConsist story inside the worker of the built app, in headless Chromium
// (WebGPU on SwiftShader), from tiny models served over HTTP: the browser's results equal the
// same pipelines run in Node on Dawn.

import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { StoryPictureResult, StoryRunResult } from '../../src/engine-api';
import { SCHNELL_4 } from '../../src/engine/characonsist/schedule';
import { ConditioningCache } from '../../src/engine/pipeline/conditioning';
import type { FluxModelFiles } from '../../src/engine/pipeline/models';
import { generateStory } from '../../src/engine/pipeline/story';
import { txt2img } from '../../src/engine/pipeline/txt2img';
import { relativeError } from '../../src/engine/reference/compare';
import { openNodeGpu } from '../../tools/node-gpu';
import { loadTokenizers, nodeFileRef } from '../../tools/node-models';
import { appSession } from './browser';
import { E2E_MODELS_DIR, MODEL_FILES, modelSet } from './models';

const baseUrl = inject('baseUrl');
const REQUEST = { prompt: 'a red fox in the snow', width: 32, height: 48, steps: 2, seed: 11, maxSequenceLength: 16 };
const STORY = {
  mode: 'scenes' as const,
  character: 'a knight with a red cloak',
  identity: { environment: 'In a misty forest,', action: 'stands still.' },
  frames: [
    { environment: 'In a misty forest,', action: 'draws a sword.' },
    { environment: 'On a stone bridge,', action: 'rides a horse.', width: 48 },
  ],
  width: 32,
  height: 32,
  seed: 5,
  maxSequenceLength: 24,
};

/** The tiny models as the Node pipeline reads them, from the folder the browser downloads them from. */
function nodeFiles(): FluxModelFiles {
  const file = (name: string) => nodeFileRef(path.join('dist', E2E_MODELS_DIR, name));
  return { transformer: file(MODEL_FILES.transformer), t5: file(MODEL_FILES.t5), clip: file(MODEL_FILES.clip), vae: file(MODEL_FILES.vae) };
}

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
      const node = await txt2img(gpu, nodeFiles(), await loadTokenizers(), new ConditioningCache(), REQUEST);
      expect(relativeError(browser.latents, node.latents[node.latents.length - 1])).toBeLessThan(1e-4);
      const largestByteDifference = browser.rgba.reduce((max, value, i) => Math.max(max, Math.abs(value - node.rgba[i])), 0);
      expect(largestByteDifference).toBeLessThanOrEqual(1);
    } finally {
      gpu.destroy();
    }
  });

  it('runs a story with the schnell-4 preset and gives the pictures, masks and points of the Node pipeline', async () => {
    const models = modelSet(new URL(baseUrl).origin);
    const browser = await app.page.evaluate(
      async ({ models, story }) => {
        type Engine = { generateStory(r: object): Promise<StoryRunResult> };
        const engine = (globalThis as unknown as { characonsistEngine: Engine }).characonsistEngine;
        const result = await engine.generateStory({ models, ...story, schedule: 'schnell-4' });
        const plain = (picture: StoryPictureResult) => ({ width: picture.width, latents: Array.from(picture.latents), mask: Array.from(picture.mask), maskPixels: picture.maskPixels.length });
        return {
          identity: plain(result.identity!),
          frames: result.frames.map((frame) => ({ ...plain(frame), frame: frame.frame, points: frame.points, flags: frame.flags })),
          events: result.events,
        };
      },
      { models, story: STORY },
    );

    const gpu = await openNodeGpu({ software: true });
    try {
      const node = await generateStory(gpu, nodeFiles(), await loadTokenizers(), new ConditioningCache(), { ...STORY, schedule: SCHNELL_4 });
      expect(browser.events).toEqual(node.events);
      expect(browser.frames.map((frame) => frame.frame)).toEqual(STORY.frames.map((_, k) => k));
      for (const [picture, expected] of [[browser.identity, node.identity!], ...browser.frames.map((frame, k) => [frame, node.frames[k]] as const)] as const) {
        expect(picture.width).toBe(expected.width);
        expect(picture.mask).toEqual(Array.from(expected.mask));
        expect(picture.maskPixels).toBe(expected.width * expected.height);
        expect(relativeError(picture.latents, expected.latents)).toBeLessThan(1e-4);
      }
      expect(browser.frames.map((frame) => [frame.points, frame.flags])).toEqual(node.frames.map((frame) => [frame.points, frame.flags]));
    } finally {
      gpu.destroy();
    }
  });
});
