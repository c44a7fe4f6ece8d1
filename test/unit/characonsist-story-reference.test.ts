// The float64 reference of a whole CharaConsist story (src/engine/reference/characonsist.ts) on the
// tiny story model: the official cached order and the lockstep order agree bit for bit in the
// three modes, and the reference itself reads the right prompt spans, survives empty sets and
// refuses background sharing across grids.

import { describe, expect, it } from 'vitest';
import { composeStoryPrompt } from '../../src/engine/characonsist/prompt';
import type { StoryEvent, StoryImage } from '../../src/engine/characonsist/story';
import { fluxPositionIds } from '../../src/engine/ops/rope-table';
import { relativeError } from '../../src/engine/reference/compare';
import { fluxForwardReference, sampleReference, type SingleBlockState } from '../../src/engine/reference/flux';
import { maskCleanupReference } from '../../src/engine/reference/morphology';
import { foregroundMaskReference, textAttentionScores, type RangeScores } from '../../src/engine/reference/text-attention';
import { fluxSchedule } from '../../src/engine/sampling/schedule';
import { T5_MAX_LENGTH } from '../../src/engine/text/t5-tokenizer';
import { freshSeed } from '../helpers/random';
import {
  bits, CONFIG, coveringStory, frameOf, identityWithMixedMask, LAST_STEP, otherGrid, PROMPT, randomImage, run, scenesStory, SCHEDULE,
  sharesSomeBackground, story, STORY_TIMEOUT, tracksPoints, WEIGHTS, IDENTITY_GRID,
} from '../helpers/story-fixtures';
import { loadT5 } from './tokenizer-inputs';

describe('CharaConsist story reference: cached and lockstep orders agree bit for bit', { timeout: STORY_TIMEOUT }, () => {
  it('background maintaining: shared background text, identity background and point tracking', () => {
    const seed = freshSeed('story reference maintaining');
    const { story: maintaining, cached } = coveringStory(
      seed,
      (identity) => story(identity, [frameOf(seed, identity), frameOf(seed, identity)], true),
      (result) => result.frames.some(tracksPoints) && [0, 1].some((frame) => sharesSomeBackground(result, frame)),
    );
    expect(bits(run(maintaining, 'lockstep'))).toEqual(bits(cached));
  });

  it('background switching: another background per frame, point tracking and token merge only', () => {
    const seed = freshSeed('story reference switching');
    const { story: switching, cached } = coveringStory(
      seed,
      (identity) => story(identity, [frameOf(seed, identity, { newPlace: true }), frameOf(seed, identity, { newPlace: true })], false),
      (result) => result.frames.some(tracksPoints),
    );
    expect(bits(run(switching, 'lockstep'))).toEqual(bits(cached));
  });

  it('scenes: each scene’s first frame is the background source of the next, one scene on another grid', () => {
    const seed = freshSeed('story reference scenes');
    const { story: scenes, cached } = scenesStory(seed);
    const lockstep = run(scenes, 'lockstep');
    expect(bits(lockstep)).toEqual(bits(cached));
    expect(cached.frames[3].latents).toHaveLength(SCHEDULE.steps + 1);
  });

  it('scenes in batches of one frame: each batch recomputes the identity and its scene source, with the same result', () => {
    const seed = freshSeed('story reference scenes in batches');
    const { story: scenes, cached } = scenesStory(seed);
    expect(bits(run(scenes, { lockstep: { framesPerBatch: 1 } }))).toEqual(bits(cached));
  });
});

describe('CharaConsist story reference', { timeout: STORY_TIMEOUT }, () => {
  it('is plain FLUX for the identity, bit for bit', () => {
    const seed = freshSeed('story reference identity');
    const { identity, result } = identityWithMixedMask(seed);
    expect(bits(result.identity.latents)).toEqual(bits(plainFlux(identity)));
  });

  it('reads background statistics over [0, bgLen) and foreground over [bgLen, realLen) of a tokenized prompt', async () => {
    const seed = freshSeed('story reference prompt spans');
    const t5 = await loadT5();
    const prompt = composeStoryPrompt(t5, { background: 'In a quiet park at dawn,', character: 'a girl with a red scarf,', action: 'running' }, T5_MAX_LENGTH.dev);
    // The EOS and two padding rows follow the prompt: statistics that read them would differ.
    const identity = randomImage(seed, IDENTITY_GRID, { textTokens: prompt.realLen + 3, bgLen: prompt.bgLen, realLen: prompt.realLen });
    const result = run(story(identity, [], false));

    const blocks = singleBlockStates(identity, result.identity.latents[SCHEDULE.maskStep], SCHEDULE.maskStep);
    const expected = blockMeanScores(identity, blocks, prompt.bgLen, prompt.realLen);
    expect(relativeError(result.identity.maskScores.background, expected.background)).toBeLessThan(1e-12);
    expect(relativeError(result.identity.maskScores.foreground, expected.foreground)).toBeLessThan(1e-12);
    const raw = foregroundMaskReference(expected.background, expected.foreground, 1);
    expect(Array.from(result.identity.mask)).toEqual(Array.from(maskCleanupReference(raw, identity)));
    // Neighbouring spans give other statistics, so the comparison above pins the spans down.
    for (const [bgLen, realLen] of [[prompt.bgLen - 1, prompt.realLen], [prompt.bgLen + 1, prompt.realLen], [prompt.bgLen, prompt.realLen + 1]]) {
      const shifted = blockMeanScores(identity, blocks, bgLen, realLen);
      expect(relativeError(shifted.background, expected.background) + relativeError(shifted.foreground, expected.foreground)).toBeGreaterThan(1e-6);
    }
  });

  it('completes a frame without foreground next to an identity without background, reporting every empty set', () => {
    const seed = freshSeed('story reference empty sets');
    // bgLen 0: background scores are 0, so every identity token is foreground. bgLen = realLen:
    // foreground scores are 0, so every frame token is background.
    const identity = { ...randomImage(seed), bgLen: 0 };
    const frame = { ...frameOf(seed, identity), bgLen: PROMPT.realLen };
    const emptyStory = story(identity, [frame], true);
    const cached = run(emptyStory);

    const foreground = (run: 'pre' | 'full', step: number): StoryEvent => ({ kind: 'empty-foreground', frame: 0, run, step });
    const background = (run: 'pre' | 'full', step: number): StoryEvent => ({ kind: 'empty-shared-background', frame: 0, run, step });
    const noMatch = (run: 'pre' | 'full'): StoryEvent => ({ kind: 'no-valid-match', frame: 0, run });
    expect(cached.events).toEqual([
      foreground('pre', 0), background('pre', 1), foreground('pre', 1), background('pre', 2), foreground('pre', 2), noMatch('pre'),
      foreground('full', 0), background('full', 1), foreground('full', 1), background('full', 2), foreground('full', 2), noMatch('full'), background('full', 3),
    ]);
    expect(Array.from(cached.identity.mask)).toEqual(new Array(20).fill(1));
    expect(Array.from(cached.frames[0].mask)).toEqual(new Array(20).fill(0));
    // Nothing to share and nothing to merge: the frame is plain FLUX, its pre-run the start of it.
    const plain = plainFlux(frame);
    expect(bits(cached.frames[0].latents)).toEqual(bits(plain));
    expect(bits(cached.frames[0].preRun.latents)).toEqual(bits(plain.slice(0, SCHEDULE.maskStep + 1)));
    expect(bits(run(emptyStory, 'lockstep'))).toEqual(bits(cached));
  });

  it('completes frames next to an identity without foreground, with no matches', () => {
    const seed = freshSeed('story reference empty identity');
    const identity = { ...randomImage(seed), bgLen: PROMPT.realLen };
    const result = run(story(identity, [{ ...frameOf(seed, identity), bgLen: PROMPT.bgLen }], true));
    expect(result.events.filter((event) => event.kind !== 'empty-foreground' && event.kind !== 'empty-shared-background')).toEqual([
      { kind: 'empty-identity-foreground' },
      { kind: 'no-valid-match', frame: 0, run: 'pre' },
      { kind: 'no-valid-match', frame: 0, run: 'full' },
    ]);
    expect(result.frames[0].latents[LAST_STEP + 1].every(Number.isFinite)).toBe(true);
  });

  it('shares no background with a frame on another grid, says so, and runs it as without background sharing', () => {
    const seed = freshSeed('story reference grid mismatch');
    const identity = randomImage(seed);
    const frame = frameOf(seed, identity, { grid: otherGrid(seed) });
    const shared = run(story(identity, [frame], true));
    const unshared = run(story(identity, [frame], false));
    expect(shared.events.filter((event) => event.kind === 'background-size-mismatch')).toEqual([{ kind: 'background-size-mismatch', frame: 0 }]);
    expect(bits(shared.frames)).toEqual(bits(unshared.frames));
  });

  it('rejects a schedule that shares before any mask exists and prompt spans past the text', () => {
    const seed = freshSeed('story reference bad input');
    const identity = randomImage(seed);
    const early = { ...story(identity, [], true), schedule: { ...SCHEDULE, attention: [0, 4] as const } };
    const overlong = story({ ...identity, realLen: PROMPT.textTokens + 1 }, [], true);
    for (const bad of [early, overlong]) expect(() => run(bad)).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });
});

/** BFL-style sampling of one image on its own, without CharaConsist. */
function plainFlux(image: StoryImage): Float64Array[] {
  const ids = fluxPositionIds(image.textTokens, image.rows, image.cols);
  const inputs = { txt: image.text, y: image.pooled, txtIds: ids.subarray(0, 3 * image.textTokens), imgIds: ids.subarray(3 * image.textTokens), guidance: SCHEDULE.guidance };
  return sampleReference(CONFIG, WEIGHTS, inputs, image.noise, fluxSchedule(SCHEDULE.steps, image.rows * image.cols, SCHEDULE.shift));
}

/** Every single block's state in the forward pass of `step` from `latent`. */
function singleBlockStates(image: StoryImage, latent: Float64Array, step: number): SingleBlockState[] {
  const ids = fluxPositionIds(image.textTokens, image.rows, image.cols);
  const timestep = fluxSchedule(SCHEDULE.steps, image.rows * image.cols, SCHEDULE.shift)[step];
  const states: SingleBlockState[] = [];
  const inputs = { img: latent, imgIds: ids.subarray(3 * image.textTokens), txt: image.text, txtIds: ids.subarray(0, 3 * image.textTokens), y: image.pooled, timestep, guidance: SCHEDULE.guidance };
  fluxForwardReference(CONFIG, WEIGHTS, inputs, { afterAttention: (state) => states.push(state) });
  return states;
}

/** The block means of the text-attention scores of image queries against prompt keys [0, realLen). */
function blockMeanScores(image: StoryImage, states: SingleBlockState[], bgLen: number, realLen: number): RangeScores {
  const imageTokens = image.rows * image.cols;
  const shape = { imageTokens, heads: CONFIG.heads, headDim: CONFIG.headDim, bgLen, realLen };
  const perBlock = states.map((state) => textAttentionScores(state.queries.subarray(image.textTokens * CONFIG.hidden), state.keys, shape));
  const mean = (range: keyof RangeScores) => Float64Array.from({ length: imageTokens }, (_, token) => perBlock.reduce((sum, scores) => sum + scores[range][token], 0) / states.length);
  return { background: mean('background'), foreground: mean('foreground') };
}
