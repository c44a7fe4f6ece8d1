// The engine API's requests (src/schema/request.ts): what each accepts and refuses, and that the
// engine checks them at the top of its public methods, before it looks for a GPU.

import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine';
import { EngineError } from '../../src/engine/errors';
import { sampleFlux } from '../../src/engine/models/flux/sampler';
import { ImageRequestSchema, SelfCheckRequestSchema, StoryRunRequestSchema, TokenCountRequestSchema } from '../../src/schema/request';
import { check, describeProblems } from '../../src/schema/validate';
import { IMAGE_REQUEST, MODELS, SCENES_STORY, SELF_CHECK_REQUEST, STORY_REQUEST, TOKEN_COUNT_REQUEST } from './input-examples';

const refusal = (schema: Parameters<typeof check>[0], input: unknown) => {
  const result = check(schema, input);
  return result.ok ? 'accepted' : describeProblems(result.problems, 9);
};

describe('request schemas', () => {
  it('accept the documented requests', () => {
    expect(refusal(ImageRequestSchema, IMAGE_REQUEST)).toBe('accepted');
    expect(refusal(StoryRunRequestSchema, STORY_REQUEST)).toBe('accepted');
    expect(refusal(StoryRunRequestSchema, { ...SCENES_STORY, models: MODELS })).toBe('accepted');
    expect(refusal(SelfCheckRequestSchema, SELF_CHECK_REQUEST)).toBe('accepted');
    expect(refusal(TokenCountRequestSchema, TOKEN_COUNT_REQUEST)).toBe('accepted');
  });

  it.each([
    [{ steps: 0 }, 'steps: must be at least 1, got 0'],
    [{ steps: 1.5 }, 'steps: must be a whole number, got 1.5'],
    [{ steps: 1e9 }, 'steps: must be at most 1000, got 1000000000'],
    [{ steps: '28' }, 'steps: must be a number, got "28"'],
    [{ seed: -1 }, 'seed: must be at least 0, got -1'],
    [{ seed: 2 ** 32 }, 'seed: must be at most 4294967295, got 4294967296'],
    [{ width: 40 }, 'width: must be a multiple of 16, got 40'],
    [{ height: 4096 }, 'height: must be at most 2048, got 4096'],
    [{ guidance: NaN }, 'guidance: must be a number, got NaN'],
    [{ maxSequenceLength: 513 }, 'maxSequenceLength: must be at most 512, got 513'],
    [{ prompt: '  ' }, 'prompt: is empty: describe the picture'],
    [{ prompt: undefined }, 'prompt: is missing'],
    [{ Steps: 4 }, 'Steps: is not a known field (check its spelling; unknown fields are refused)'],
  ])('refuse an image request with %o', (change, message) => {
    expect(refusal(ImageRequestSchema, { ...IMAGE_REQUEST, ...change })).toBe(message);
  });

  it.each([
    [{ url: 'javascript:alert(1)' }, 'models.transformer.url: must be an http(s) address or a relative one, got "javascript:alert(1)"'],
    [{ url: 'file:///home/me/flux.gguf' }, 'models.transformer.url: must be an http(s) address or a relative one, got "file:///home/me/flux.gguf"'],
    [{ file: 'flux.gguf', name: 'flux.gguf' }, 'models.transformer.file: must be a file the user picked (a Blob), got string'],
    [{ file: new Blob([]) }, 'models.transformer.name: is missing'],
    [{ stored: '' }, "models.transformer.stored: is empty: give the catalog's id of the stored file"],
    [{ path: '/models/flux.gguf' }, 'models.transformer: must be {url}, {file, name} or {stored}: where to read the model file'],
    ['flux.gguf', 'models.transformer: must be {url}, {file, name} or {stored}: where to read the model file'],
    [{ url: 'a', stored: 'b' }, 'models.transformer.stored: is not a known field (check its spelling; unknown fields are refused)'],
  ])('refuse a model source %o', (transformer, message) => {
    expect(refusal(ImageRequestSchema, { ...IMAGE_REQUEST, models: { ...MODELS, transformer } })).toBe(message);
  });

  it.each([
    [{ pictures: { identity: false, frames: [2] } }, 'pictures.frames: must be frame numbers from 0 to 1 (the story\'s frames), got 2'],
    [{ pictures: { identity: true, frames: [0, 0] } }, 'pictures.frames: names a frame more than once'],
    [{ pictures: { identity: false, frames: [] } }, 'pictures: asks for no picture: set identity, or list frames'],
    [{ framesPerBatch: 0 }, 'framesPerBatch: must be at least 1, got 0'],
    [{ previewEvery: -2 }, 'previewEvery: must be at least 0, got -2'],
    [{ schedule: 'dev-51' }, 'schedule: must be one of "dev-50", "schnell-4", got "dev-51"'],
    [{ frames: [] }, 'frames: needs at least 1 frames'],
    [{ identity: undefined }, 'identity: is missing'],
    [{ mode: 'maintain', useInterpolate: 'yes' }, 'useInterpolate: must be true or false, got "yes"'],
  ])('refuse a story request with %o', (change, message) => {
    expect(refusal(StoryRunRequestSchema, { ...STORY_REQUEST, ...change })).toBe(message);
  });

  it('refuse a self-check of an absurd length and too many texts to count', () => {
    expect(refusal(SelfCheckRequestSchema, { length: 2 ** 30, seed: 1 })).toBe('length: must be at most 16777216, got 1073741824');
    expect(refusal(TokenCountRequestSchema, { ...TOKEN_COUNT_REQUEST, texts: Array(257).fill('a') })).toBe('texts: has 257 texts; at most 256');
  });
});

describe('the engine checks every request before any GPU work', () => {
  // No GPU, no model files: a request that passes its schema fails later, with another code.
  const engine = new Engine(() => undefined);
  const failure = (work: Promise<unknown>) => work.then(() => undefined, (error: unknown) => error as EngineError);

  it('generateImage: a refused request is an invalid-input error naming the field, with an action', async () => {
    const error = await failure(engine.generateImage({ ...IMAGE_REQUEST, steps: 1e9 }));
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'invalid-input', message: 'steps: must be at most 1000, got 1000000000', action: 'Correct the named field (steps) of the image request and try again.' });
    expect((await failure(engine.generateImage(IMAGE_REQUEST)))!.code).not.toBe('invalid-input');
  });

  it('generateStory: names every wrong field of the story', async () => {
    const story = { ...STORY_REQUEST, frames: [{ ...STORY_REQUEST.frames[0], width: 40 }, 'a frame'], seed: 'abc' };
    const error = await failure(engine.generateStory(story as never));
    expect(error).toMatchObject({ code: 'invalid-input', message: 'frames[0].width: must be a multiple of 16, got 40; frames[1]: must be an object, got "a frame"; seed: must be a number, got "abc"' });
    expect(error!.action).toBe('Correct the named fields (frames[0].width, frames[1], seed) of the story and try again.');
    expect((await failure(engine.generateStory(STORY_REQUEST as never)))!.code).not.toBe('invalid-input');
  });

  it('selfCheck: refuses a fractional length', async () => {
    expect(await failure(engine.selfCheck({ length: 10.5, seed: 1 }))).toMatchObject({ code: 'invalid-input', message: 'length: must be a whole number, got 10.5' });
    expect(await failure(engine.selfCheck(SELF_CHECK_REQUEST))).toMatchObject({ code: 'webgpu-unavailable' });
  });
});

describe('tensors at the engine entry points', () => {
  it('sampleFlux refuses a NaN or one-value schedule and a non-finite guidance before touching the GPU', async () => {
    // No GPU objects at all: the checks come first.
    const sample = (schedule: number[], guidance = 3.5) => sampleFlux({} as never, {} as never, {} as never, {} as never, { schedule, guidance });
    await expect(sample([1, NaN, 0])).rejects.toMatchObject({ code: 'invalid-input', message: 'The sampling schedule holds 1 non-finite value (NaN or infinity), the first at index 1.' });
    await expect(sample([1])).rejects.toMatchObject({ code: 'invalid-input', message: 'The sampling schedule holds 1 value; at least 2 are needed.' });
    await expect(sample([1, 0], Infinity)).rejects.toMatchObject({ code: 'invalid-input', message: 'The guidance holds 1 non-finite value (NaN or infinity), the first at index 0.' });
  });
});
