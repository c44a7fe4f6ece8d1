// Whole stories from prompts on the tiny models, through the pipeline and the engine: a frame's
// pixels do not depend on its batch (regenerated alone, it is bit for bit the frame of the full
// run, which made it beside another frame), each model file is read once per story, the updates
// arrive in the order the studio shows them, and a cancel or a lost device stops a story cleanly.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelSet, StoryRunResult, StoryUpdate } from '../../src/engine-api';
import { Engine } from '../../src/engine/engine';
import { SCHNELL_4 } from '../../src/engine/characonsist/schedule';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { ConditioningCache } from '../../src/engine/pipeline/conditioning';
import type { FluxModelFiles, ModelFileRef } from '../../src/engine/pipeline/models';
import { generateStory, type StoryRequest } from '../../src/engine/pipeline/story';
import { LatentPreviewOp } from '../../src/engine/ops/latent-preview';
import { nodeGpu } from '../../tools/node-gpu';
import { APP_TOKENIZERS, loadTokenizers, nodeFileRef } from '../../tools/node-models';
import { MODEL_FILES, writeTinyModels } from '../e2e/models';
import { testGpu } from './harness';

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'story-generation-'));
  await writeTinyModels(dir);
});

/** 32x32 pictures (2x2 tokens), a new scene at frame 1 whose background frame 2 shares. */
const SCENES_DOCUMENT = {
  mode: 'scenes' as const,
  character: 'a knight with a red cloak',
  identity: { environment: 'In a misty forest,', action: 'stands still.' },
  frames: [
    { environment: 'In a misty forest,', action: 'draws a sword.' },
    { environment: 'On a stone bridge,', action: 'rides a horse.' },
    { environment: 'On a stone bridge,', action: 'looks back.', seed: 77 },
  ],
  width: 32,
  height: 32,
  seed: 5,
  maxSequenceLength: 24,
  schedule: 'schnell-4' as const,
};
const MAINTAIN_DOCUMENT = { ...SCENES_DOCUMENT, mode: 'maintain' as const, frames: SCENES_DOCUMENT.frames.slice(0, 2) };
/** The pipeline's form: the schedule preset resolved. */
const SCENES: StoryRequest = { ...SCENES_DOCUMENT, schedule: SCHNELL_4 };

/** The tiny model files, counting how often each is opened. */
function countingFiles(): { files: FluxModelFiles; opened: Record<keyof FluxModelFiles, number> } {
  const opened = { transformer: 0, t5: 0, clip: 0, vae: 0 };
  const ref = (name: keyof FluxModelFiles): ModelFileRef => {
    const file = nodeFileRef(path.join(dir, MODEL_FILES[name]));
    return { id: file.id, open: () => (opened[name]++, file.open()) };
  };
  return { files: { transformer: ref('transformer'), t5: ref('t5'), clip: ref('clip'), vae: ref('vae') }, opened };
}

const bitsOf = (values: Float32Array) => Array.from(new Uint32Array(values.slice().buffer));

function expectSameFrame(ours: StoryRunResult['frames'][number], full: StoryRunResult['frames'][number]): void {
  expect(ours.frame).toBe(full.frame);
  expect(bitsOf(ours.latents)).toEqual(bitsOf(full.latents));
  expect(Buffer.from(ours.rgba).equals(Buffer.from(full.rgba))).toBe(true);
  expect(Array.from(ours.mask)).toEqual(Array.from(full.mask));
  expect(ours.points).toEqual(full.points);
}

/** A full run of `story`, its updates, and how often it opened each model file; later runs share its prompt cache. */
async function fullRun(story: StoryRequest) {
  const { files, opened } = countingFiles();
  const run = { gpu: await testGpu(), files, tokenizers: await loadTokenizers(), cache: new ConditioningCache() };
  const updates: StoryUpdate[] = [];
  const result = await generateStory(run.gpu, files, run.tokenizers, run.cache, story, (update) => updates.push(update));
  return { ...run, result, updates, openedByTheRun: { ...opened }, opened };
}

/** Frame `frame` alone: bit for bit as in the full run. */
async function regenerate(full: Awaited<ReturnType<typeof fullRun>>, story: StoryRequest, frame: number): Promise<void> {
  const { gpu, files, tokenizers, cache, result } = full;
  const alone = await generateStory(gpu, files, tokenizers, cache, { ...story, pictures: { identity: false, frames: [frame] } });

  expect(alone.identity).toBeUndefined();
  expect(alone.frames.map((f) => f.frame)).toEqual([frame]);
  expectSameFrame(alone.frames[0], result.frames[frame]);
  // The prompts were encoded once: regenerating reads neither encoder again.
  expect([full.opened.t5, full.opened.clip]).toEqual([1, 1]);
}

describe('a story of the scenes mode in batches of two', () => {
  let scenes: Awaited<ReturnType<typeof fullRun>>;
  beforeAll(async () => {
    scenes = await fullRun({ ...SCENES, framesPerBatch: 2 });
  }, 600_000);

  it('reads each model file once (the transformer’s header first, on its own)', () => {
    expect(scenes.openedByTheRun).toEqual({ transformer: 2, t5: 1, clip: 1, vae: 1 });
  });

  it('frame 1 alone equals the full run’s (made in a batch with frame 0); frame 2 alone brings its scene’s first frame along and equals it too', async () => {
    await regenerate(scenes, SCENES, 1);
    await regenerate(scenes, SCENES, 2);
  });

  it('sends progress by stage with steadily growing work, previews every other step, masks at the mask step, each picture once decoded', () => {
    const { updates, result } = scenes;
    const progress = updates.filter((u): u is Extract<StoryUpdate, { kind: 'progress' }> => u.kind === 'progress');
    const stages = progress.map((u) => u.stage).filter((stage, i, all) => stage !== all[i - 1]);
    expect(stages).toEqual(['text encoders', 'transformer', 'identity', 'decoding', 'pre-run', 'full run', 'decoding', 'pre-run', 'full run', 'decoding']);
    const work = progress.map((u) => u.work);
    expect(new Set(work.map((w) => w.total)).size).toBe(1);
    expect(work.every((w, i) => i === 0 || w.done >= work[i - 1].done)).toBe(true);
    expect(work[work.length - 1].done).toBe(work[0].total);
    expect(progress.filter((u) => u.stage === 'full run').map((u) => u.frames)).toContainEqual([0, 1]);
    expect(progress.filter((u) => u.stage === 'full run').map((u) => u.frames)).toContainEqual([2]);

    // schnell-4: previews after steps 2 and 4 of the identity and of each frame's full run (pre-runs stop after step 1's
    // forward pass); frame 1, the scene source that batch 2 recomputes for frame 2, only from its own batch.
    const previews = updates.filter((u): u is Extract<StoryUpdate, { kind: 'preview' }> => u.kind === 'preview');
    expect(previews.filter((p) => p.picture === 'identity').map((p) => p.step)).toEqual([2, 4]);
    for (const frame of [0, 1, 2]) expect(previews.filter((p) => p.picture !== 'identity' && p.picture.frame === frame).map((p) => p.step)).toEqual([2, 4]);
    expect(previews.every((p) => p.width === 4 && p.height === 4 && p.rgba.length === 4 * LatentPreviewOp.pixels({ rows: 2, cols: 2 }))).toBe(true);

    const masks = updates.filter((u): u is Extract<StoryUpdate, { kind: 'mask' }> => u.kind === 'mask');
    // In each pass the scene source (frame 1) runs first; batch 2 recomputes it without sending its mask again.
    expect(masks.map((m) => [m.picture === 'identity' ? 'identity' : m.picture.frame, m.run])).toEqual([
      ['identity', 'full'], [1, 'pre'], [0, 'pre'], [1, 'full'], [0, 'full'], [2, 'pre'], [2, 'full'],
    ]);
    expect(masks.every((m) => m.rows === 2 && m.cols === 2 && m.mask.length === 4)).toBe(true);

    const pictures = updates.flatMap((u, i) => (u.kind === 'picture' ? [{ key: u.picture === 'identity' ? 'identity' : u.picture.frame, at: i, result: u.result }] : []));
    expect(pictures.map((p) => p.key)).toEqual(['identity', 0, 1, 2]);
    // The identity's picture arrives before any frame's run starts.
    expect(pictures[0].at).toBeLessThan(updates.findIndex((u) => u.kind === 'progress' && u.stage === 'pre-run'));
    expect(Buffer.from(pictures[0].result.rgba).equals(Buffer.from(result.identity!.rgba))).toBe(true);
    pictures.slice(1).forEach((p, k) => expect(p.result).toEqual(result.frames[k]));
    expect(result.frames.map((f) => f.seed)).toEqual([5, 5, 77]);
  });
});

/** The engine API's model set: the tiny models and the app's tokenizers as picked files. */
function pickedModels(): ModelSet {
  const picked = (file: string) => ({ file: new Blob([readFileSync(file)]), name: path.basename(file) });
  const model = (name: keyof typeof MODEL_FILES) => picked(path.join(dir, MODEL_FILES[name]));
  const tokenizer = (folder: string, name: string) => picked(path.join(APP_TOKENIZERS, folder, name));
  return {
    transformer: model('transformer'), t5: model('t5'), clip: model('clip'), vae: model('vae'),
    tokenizers: {
      t5: { tokenizer: tokenizer('t5-v1_1-xxl', 'tokenizer.json'), config: tokenizer('t5-v1_1-xxl', 'tokenizer_config.json') },
      clip: { vocab: tokenizer('clip-vit-large-patch14', 'vocab.json'), merges: tokenizer('clip-vit-large-patch14', 'merges.txt'), config: tokenizer('clip-vit-large-patch14', 'tokenizer_config.json') },
    },
  };
}

const storyRequest = (models: ModelSet) => ({ ...MAINTAIN_DOCUMENT, models, framesPerBatch: 1 });
const keyOf = (update: StoryUpdate) => (update.kind === 'picture' ? (update.picture === 'identity' ? 'identity' : update.picture.frame) : undefined);

describe('cancel', () => {
  it('stops a story during the second batch: earlier pictures delivered, GPU memory back where it was, the engine still works', async () => {
    const engine = new Engine(() => nodeGpu());
    const models = pickedModels();
    const full = await engine.generateStory(storyRequest(models));
    const runtime: GpuRuntime = await engine.openRuntime()!;
    const liveBefore = runtime.memory.liveBytes;

    const delivered: (string | number)[] = [];
    let cancelled = false;
    let afterCancel = 0;
    const story = engine.generateStory(storyRequest(models), (update) => {
      if (cancelled) afterCancel++;
      const key = keyOf(update);
      if (key !== undefined) delivered.push(key);
      if (!cancelled && update.kind === 'progress' && update.stage === 'full run' && update.frames[0] === 1 && update.done === 1) {
        cancelled = true;
        void engine.cancel();
      }
    });
    await expect(story).rejects.toMatchObject({ code: 'cancelled' });
    expect(delivered).toEqual(['identity', 0]);
    // At most the rest of the block being recorded and the progress of the step it stopped in.
    expect(afterCancel).toBeLessThanOrEqual(1);
    expect(runtime.memory.liveBytes).toBe(liveBefore);

    const again = await engine.generateStory({ ...storyRequest(models), pictures: { identity: false, frames: [1] } });
    expect(bitsOf(again.frames[0].latents)).toEqual(bitsOf(full.frames[1].latents));
    await engine.dispose();
  });
});

describe('device loss', () => {
  it('rejects a story at once with device-lost; the next call opens a new device', async () => {
    const losable = losableGpu();
    const engine = new Engine(() => losable.gpu);
    const lost: string[] = [];
    engine.onDeviceLost((error) => lost.push(error.code));
    const models = pickedModels();
    let pictures = 0;
    let injected = false;
    const story = engine.generateStory(storyRequest(models), (update) => {
      if (update.kind === 'picture') pictures++;
      if (!injected && update.kind === 'progress' && update.stage === 'pre-run') {
        injected = true;
        losable.lose();
      }
    });
    await expect(story).rejects.toMatchObject({ code: 'device-lost' });
    expect(pictures).toBe(1);
    expect(lost).toEqual(['device-lost']);

    const after = await engine.generateStory({ ...storyRequest(models), pictures: { identity: true, frames: [] } });
    expect(after.identity!.width).toBe(32);
    expect(losable.devices()).toBe(2);
    await engine.dispose();
  });
});

/** Dawn's GPU whose current device can be lost on demand, as a driver reset would (device.lost resolves with reason 'unknown'). */
function losableGpu(): { gpu: GPU; lose(): void; devices(): number } {
  const gpu = nodeGpu();
  let current: { device: GPUDevice; resolve(info: GPUDeviceLostInfo): void } | undefined;
  let opened = 0;
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  gpu.requestAdapter = async (options) => {
    const adapter = await requestAdapter(options);
    if (!adapter) return adapter;
    const requestDevice = adapter.requestDevice.bind(adapter);
    adapter.requestDevice = async (descriptor) => {
      const device = await requestDevice(descriptor);
      const lost = new Promise<GPUDeviceLostInfo>((resolve) => (current = { device, resolve }));
      Object.defineProperty(device, 'lost', { value: lost });
      opened++;
      return device;
    };
    return adapter;
  };
  return {
    gpu,
    lose: () => {
      current!.device.destroy();
      current!.resolve({ reason: 'unknown', message: 'lost on purpose by the test' } as GPUDeviceLostInfo);
    },
    devices: () => opened,
  };
}
