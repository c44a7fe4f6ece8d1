// The story editor's logic without a page: its verdict on a story (problems by field path, in the
// editor's words), the edits it makes, what a run gets, and migrating stories saved by version 1.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check } from '../../src/schema/validate';
import { StoryDocumentSchema, type StoryDocument } from '../../src/schema/story';
import { EXAMPLES } from '../../src/ui/studio/examples';
import {
  addFrame, frameKey, frameOrigins, identityKey, lockSeed, moveFrame, opensScene, removeFrame, runnableStory, sceneSource, setFrame,
  shrinkFrames, shrinkStory, smallerSide, unlockSeed,
} from '../../src/ui/studio/story-edits';
import { DEFAULT_RUN } from '../../src/ui/studio/run-options';
import { migrateStoryState, STORY_VERSION } from '../../src/ui/studio/story-migration';
import { editorProblems, fieldName, problemsByPath, promptFit, promptText, sequenceLength, storyProblems } from '../../src/ui/studio/validation';
import { STORY } from './studio-story';

const paths = (story: StoryDocument) => storyProblems(story).map((problem) => problem.path);

describe("the editor's verdict", () => {
  it('passes every example story', () => {
    for (const { story } of EXAMPLES) expect(storyProblems(story)).toEqual([]);
  });

  it('puts each problem beside its field, by path', () => {
    const story = setFrame(setFrame({ ...STORY, character: '  ' }, 1, { width: 40 }), 2, { action: '' });
    const byPath = problemsByPath(storyProblems(story));
    expect([...byPath.keys()]).toEqual(['character', 'frames[1].width', 'frames[2].action']);
    expect(byPath.get('frames[1].width')![0]).toMatch(/multiple of 16, got 40/);
    expect(byPath.get('frames[2].action')![0]).toMatch(/empty/);
  });

  it('says a cleared number field is empty instead of showing NaN or null', () => {
    const problems = storyProblems({ ...STORY, width: Number.NaN, seed: null as unknown as number });
    expect(problems).toEqual([
      { path: 'width', message: 'is empty: enter a whole number' },
      { path: 'seed', message: 'is empty: enter a whole number' },
    ]);
  });

  it('in "same background" mode judges the identity’s place, not the hidden places of the frames', () => {
    const story = { ...setFrame(STORY, 0, { environment: '' }), mode: 'maintain' as const };
    expect(paths(story)).toEqual([]);
    expect(paths({ ...story, identity: { ...story.identity, environment: '' } })).toEqual(['identity.environment']);
  });

  it('stops prompts T5 would not read whole, at the shot’s action, counting the end mark', () => {
    const prompt = promptText(STORY.character, STORY.frames[1]);
    const tokens = (limitUsed: number) => (text: string) => (text === prompt ? limitUsed : 10);
    expect(paths({ ...STORY, maxSequenceLength: 40 })).toEqual([]);
    expect(storyProblems({ ...STORY, maxSequenceLength: 40 }, tokens(39))).toEqual([]);
    const [problem] = storyProblems({ ...STORY, maxSequenceLength: 40 }, tokens(40));
    expect(problem.path).toBe('frames[1].action');
    expect(problem.message).toMatch(/40 T5 tokens.*limit is 40.*by 1 token/);
  });

  it("takes the token limit from the story, else from the stored model's preset, else from the schedule", () => {
    expect(sequenceLength({ schedule: 'schnell-4' })).toBe(256);
    expect(sequenceLength({ schedule: 'dev-50' })).toBe(512);
    expect(sequenceLength({ schedule: 'dev-50' }, 'schnell-4')).toBe(256);
    expect(sequenceLength({ schedule: 'dev-50', maxSequenceLength: 77 }, 'schnell-4')).toBe(77);
  });

  it('warns near the limit and flags what is cut off', () => {
    expect(promptFit(undefined, 256)).toEqual({ kind: 'unknown' });
    expect(promptFit(100, 256).kind).toBe('fits');
    expect(promptFit(231, 256).kind).toBe('near-limit');
    expect(promptFit(255, 256).kind).toBe('near-limit');
    expect(promptFit(256, 256).kind).toBe('cut-off');
  });

  it('checks the run options too', () => {
    expect(editorProblems(STORY, { previewEvery: 2 }, () => undefined)).toEqual([]);
    const problems = editorProblems(STORY, { previewEvery: Number.NaN, framesPerBatch: 0 }, () => undefined);
    expect(problems.map((p) => p.path)).toEqual(['run.framesPerBatch', 'run.previewEvery']);
    expect(problems[1].message).toBe('is empty: enter a whole number');
  });

  it('names fields in words', () => {
    expect(fieldName('frames[1].width')).toBe('Frame 2, width');
    expect(fieldName('identity.environment')).toBe('Identity, place');
    expect(fieldName('seed')).toBe('Story seed');
    expect(fieldName('character')).toBe('Character');
    expect(fieldName('frames')).toBe('Frames');
  });
});

describe('what a run gets', () => {
  it('gives every frame the identity’s place in "same background" mode and keeps scene marks only in scenes mode', () => {
    const marked = setFrame(STORY, 1, { newScene: true });
    expect(runnableStory({ ...marked, mode: 'maintain' }).frames.map((f) => [f.environment, f.newScene])).toEqual([
      ['In a misty forest,', undefined], ['In a misty forest,', undefined], ['In a misty forest,', undefined],
    ]);
    expect(runnableStory(marked).frames[1].newScene).toBeUndefined();
    expect(runnableStory({ ...marked, mode: 'scenes' }).frames[1]).toEqual({ ...STORY.frames[1], newScene: true });
    // the typed frames are untouched, so switching modes back loses nothing
    expect(marked.frames[1].environment).toBe('On a stone bridge,');
  });

  it('finds scenes as the engine does: marked, or the place changed', () => {
    const scenes = { ...STORY, mode: 'scenes' as const };
    expect(scenes.frames.map((_, k) => opensScene(scenes, k))).toEqual([false, true, false]);
    expect(scenes.frames.map((_, k) => sceneSource(scenes, k))).toEqual([undefined, undefined, 1]);
    const marked = setFrame(scenes, 0, { newScene: true });
    expect(marked.frames.map((_, k) => sceneSource(marked, k))).toEqual([undefined, undefined, 1]);
    const unmarked = setFrame(scenes, 1, { newScene: false });
    expect(unmarked.frames.map((_, k) => sceneSource(unmarked, k))).toEqual([undefined, undefined, undefined]);
  });

  it("keys a frame's pixels by its settings, the identity's and its scene source's, not by other frames", () => {
    const scenes = { ...STORY, mode: 'scenes' as const };
    const key = frameKey(scenes, 2);
    expect(frameKey(setFrame(scenes, 0, { action: 'runs.' }), 2)).toBe(key);
    expect(frameKey(setFrame(scenes, 1, { action: 'runs.' }), 2)).not.toBe(key);
    expect(frameKey(setFrame(scenes, 2, { seed: 9 }), 2)).not.toBe(key);
    expect(frameKey({ ...scenes, character: 'a monk' }, 2)).not.toBe(key);
    expect(frameKey({ ...scenes, mode: 'switch' }, 2)).not.toBe(key);
    // a frame at the story seed or locked to the same seed makes the same pixels
    expect(frameKey(lockSeed(scenes, 2), 2)).toBe(key);
    expect(identityKey(setFrame(scenes, 2, { seed: 9 }))).toBe(identityKey(scenes));
    expect(identityKey({ ...scenes, seed: 6 })).not.toBe(identityKey(scenes));
  });
});

describe('editing', () => {
  it('locks the seed a frame uses now, so a new story seed leaves it alone; unlocking follows the story again', () => {
    const locked = lockSeed(STORY, 1);
    expect(locked.frames[1].seed).toBe(5);
    const rerolled = { ...locked, seed: 77 };
    expect(runnableStory(rerolled).frames.map((f) => f.seed ?? rerolled.seed)).toEqual([77, 5, 77]);
    expect(unlockSeed(rerolled, 1).frames[1]).toEqual(STORY.frames[1]);
  });

  it('adds a frame at the last frame’s place with an action to fill in', () => {
    const added = addFrame(STORY);
    expect(added.frames.at(-1)).toEqual({ environment: 'On a stone bridge,', action: '' });
    expect(paths(added)).toEqual(['frames[3].action']);
  });

  it('moves and removes frames, and says where each frame came from', () => {
    const story = (count: number): StoryDocument => ({ ...STORY, frames: Array.from({ length: count }, (_, k) => ({ environment: 'here', action: `a${k}` })) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }).chain((count) => fc.tuple(fc.constant(count), fc.nat(count - 1), fc.integer({ min: -2, max: count + 2 }))), ([count, index, to]) => {
        const before = story(count);
        const moved = moveFrame(before, index, to);
        expect(moved.frames.map((f) => f.action)).toEqual(frameOrigins(count, index, to).map((k) => `a${k}`));
        expect(moved.frames.map((f) => f.action).sort()).toEqual(before.frames.map((f) => f.action).sort());
        const removed = removeFrame(before, index);
        expect(removed.frames.map((f) => f.action)).toEqual(frameOrigins(count, index).map((k) => `a${k}`));
      }),
    );
  });

  it('shrinks to three quarters per side in whole tokens, never under 16 pixels', () => {
    expect([1024, 720, 64, 32, 16].map(smallerSide)).toEqual([768, 528, 48, 16, 16]);
    const shrunk = shrinkFrames(setFrame(STORY, 2, { width: 128 }), [1, 2]);
    expect(shrunk.frames.map((f) => [f.width, f.height])).toEqual([[undefined, undefined], [48, 32], [96, 32]]);
    const whole = shrinkStory(setFrame(STORY, 2, { width: 128 }));
    expect([whole.width, whole.height, whole.frames[0].width, whole.frames[2].width, whole.frames[2].height]).toEqual([48, 32, undefined, 96, 32]);
    expect(check(StoryDocumentSchema, whole).ok).toBe(true);
  });
});

describe('stories saved by earlier versions', () => {
  it('brings a version 1 story (place, character, actions) to a valid story with every word kept', () => {
    const v1 = { story: { environment: 'In a deserted alleyway at night,', character: 'an old sailor', actions: ['is walking the dog.', 'is lighting a pipe.'] } };
    const { story, run } = migrateStoryState(v1, 1);
    expect(check(StoryDocumentSchema, story).ok).toBe(true);
    expect(story.character).toBe('an old sailor');
    expect(story.identity.environment).toBe('In a deserted alleyway at night,');
    expect(story.frames).toEqual([
      { environment: 'In a deserted alleyway at night,', action: 'is walking the dog.' },
      { environment: 'In a deserted alleyway at night,', action: 'is lighting a pipe.' },
    ]);
    expect(story.mode).toBe('maintain');
    expect(run).toEqual(DEFAULT_RUN);
  });

  it('keeps an unfinished version 1 story as typed (the editor then shows what is missing)', () => {
    const { story } = migrateStoryState({ story: { environment: '', character: 'a cat', actions: [] } }, 0);
    expect(story.frames).toEqual([{ environment: '', action: '' }]);
    expect(paths(story)).toEqual(['identity.environment', 'frames[0].action']);
  });

  it('leaves the current version alone', () => {
    const state = { story: STORY, run: { previewEvery: 4 } };
    expect(migrateStoryState(state, STORY_VERSION)).toBe(state);
  });
});
