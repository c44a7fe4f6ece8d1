// The CharaConsist engine on the GPU (lockstep, src/engine/characonsist/runner.ts) against the
// float64 reference in the official cached order (src/engine/reference/characonsist.ts), on the
// tiny story model, for the three modes: masks and matches identical, latents of every step
// within 1e-4, the same events.

import { beforeAll, describe, expect, it } from 'vitest';
import { runStory, type StoryResult } from '../../src/engine/characonsist/runner';
import type { TransformerStory } from '../../src/engine/characonsist/story';
import { FluxTransformer } from '../../src/engine/models/flux/transformer';
import { loadFluxWeights } from '../../src/engine/models/flux/weights';
import type { CharaConsistReference } from '../../src/engine/reference/characonsist';
import { relativeError } from '../../src/engine/reference/compare';
import { tinyFluxGguf } from '../../tools/tiny-models/flux';
import { openInMemory } from '../helpers/flux';
import { freshSeed } from '../helpers/random';
import { CONFIG, coveringStory, frameOf, otherGrid, sharesSomeBackground, story, TENSORS, tracksPoints, type FrameOptions } from '../helpers/story-fixtures';
import { testGpu } from './harness';

let transformer: FluxTransformer;

beforeAll(async () => {
  const gpu = await testGpu();
  const { file, plan } = await openInMemory('tiny-story.gguf', tinyFluxGguf({ weights: 'F32', vectors: 'F32' }, CONFIG, TENSORS));
  transformer = await FluxTransformer.create(gpu, await loadFluxWeights(gpu, file, plan));
});

const list = (values: ArrayLike<number>) => Array.from(values);
const eventSet = (events: readonly object[]) => new Set(events.map((event) => JSON.stringify(event)));

function expectSameStory(gpu: StoryResult, reference: CharaConsistReference): void {
  expect(list(gpu.identity!.mask)).toEqual(list(reference.identity.mask));
  gpu.identity!.trajectory!.forEach((latent, step) => expect(relativeError(latent, reference.identity.latents[step])).toBeLessThan(1e-4));
  expect(gpu.frames.map((frame) => frame.frame)).toEqual(reference.frames.map((_, k) => k));
  gpu.frames.forEach((frame, k) => {
    const expected = reference.frames[k];
    expect(list(frame.preMask)).toEqual(list(expected.preRun.mask));
    expect(list(frame.mask)).toEqual(list(expected.mask));
    for (const [ours, theirs] of [[frame.preMatches, expected.preRun.matches], [frame.matches, expected.matches]] as const) {
      expect(list(ours.bestMatch)).toEqual(list(theirs.bestMatch));
      expect(list(ours.frameTokens)).toEqual(list(theirs.frameTokens));
      expect(list(ours.identityTokens)).toEqual(list(theirs.identityTokens));
      expect(relativeError(ours.bestSimilarity, theirs.bestSimilarity)).toBeLessThan(1e-5);
    }
    frame.trajectory!.forEach((latent, step) => expect(relativeError(latent, expected.latents[step])).toBeLessThan(1e-4));
  });
  expect(eventSet(gpu.events)).toEqual(eventSet(reference.events));
}

async function compare(mode: string, build: (seed: number) => Parameters<typeof coveringStory>[1], covers: Parameters<typeof coveringStory>[2]): Promise<void> {
  const seed = freshSeed(`characonsist gpu ${mode}`);
  const { story: chosen, cached } = coveringStory(seed, build(seed), covers);
  const result = await runStory(await testGpu(), transformer, chosen, { keepTrajectories: true });
  expectSameStory(result, cached);
  expect(result.forwardPasses).toBeGreaterThan(0);
}

describe('CharaConsist on the GPU equals the float64 reference (cached order)', () => {
  it('background maintaining', async () => {
    await compare(
      'maintaining',
      (seed) => (identity) => story(identity, [frameOf(seed, identity), frameOf(seed, identity)], true),
      (result) => result.frames.some(tracksPoints) && [0, 1].some((frame) => sharesSomeBackground(result, frame)),
    );
  });

  it('background switching', async () => {
    await compare(
      'switching',
      (seed) => (identity) => story(identity, [frameOf(seed, identity, { newPlace: true }), frameOf(seed, identity, { newPlace: true })], false),
      (result) => result.frames.some(tracksPoints),
    );
  });

  it('scenes, one on another grid', async () => {
    await compare(
      'scenes',
      (seed) => (identity): TransformerStory => {
        const grid = otherGrid(seed);
        const scene = (options: FrameOptions) => [frameOf(seed, identity, { ...options, updateBg: true, newPlace: true }), frameOf(seed, identity, options)];
        return story(identity, [...scene({}), ...scene({ grid })], true);
      },
      (result) => result.frames.some(tracksPoints) && [1, 3].some((frame) => sharesSomeBackground(result, frame)),
    );
  });
});
