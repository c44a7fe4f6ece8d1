import { beforeAll, describe, expect, it } from 'vitest';
import { composeStoryPrompt, type StoryPromptParts } from '../../src/engine/characonsist/prompt';
import { EngineError } from '../../src/engine/errors';
import { T5_MAX_LENGTH } from '../../src/engine/text/t5-tokenizer';
import type { TextTokenizer } from '../../src/engine/text/tokenizer';
import { freshSeed, randomInt } from '../helpers/random';
import { loadT5, randomText, t5Files } from './tokenizer-inputs';
import { referenceT5Ids } from './tokenizer-reference';

// Prompts and token counts printed by the authors' notebooks (spec characonsist-official.md §4):
// gen-bg_fg.ipynb ("background prompts tokens length" / "entire prompts tokens length").
const ANDROID = {
  background: 'In a deserted alleyway at night, within a circle of light on the ground,',
  character: 'a stunning female cyber-punk android combatant, white high-tech mechanical body, beautiful face, loose long brown hair,',
  actions: [
    ['closing eyes, kneeling on both knees, hands resting on the thighs, leaning forward with head lowered, facing the ground, front view', 82],
    ['opening eyes, crouching upright, lifting head, looking upward, front view', 66],
    ['opening eyes, standing upright with both feet on the ground, staring straight ahead', 65],
  ] as const,
};

// gen-mix.ipynb, prompts from examples/example_prompts.py: [background, action, bg_len, real_len].
const STUDENT =
  'a 20-year-old male Asian student, side part hair, wearing a red and black checkered shirt, a white undershirt, and blue jeans,';
const BEDROOM = 'In a dimly lit bedroom with a bed, a small desk lamp and book shelf in the background';
const OFFICE = 'A bright office, a computer desk, a window in the background,';
const ENTRANCE = 'outside the entrance of a large building,';
const STUDENT_SCENES: [string, string, number, number][] = [
  ['In an empty background,', 'standing, hands hung naturally at his sides, with a blank expression.', 5, 56],
  [OFFICE, 'sitting, looking at the computer, with one hand resting on their forehead, filling exhaustion, side view', 16, 75],
  [OFFICE, 'smiling, sitting, side view', 16, 57],
  [ENTRANCE, 'standing, looking at the phone on the hands, displaying a melancholic expression', 9, 63],
  [ENTRANCE, 'standing with a blank expression, raising one fist to encourage, standing tall with their head held high, side view', 9, 69],
  [ENTRANCE, 'jumping up to the air, waving both fists, laughing out', 9, 60],
  ['A bright auditorium, with a large screen in the background,', 'standing on stage, making a speech', 14, 57],
  ['In a sunny beach, with waves in the background,', 'lying on the beach, under a beach umbrella, laughing, wearing sunglasses', 12, 62],
  ['In a bustling airport,', 'walking, carrying a suitcase, back to the camera, back view', 7, 56],
  [BEDROOM, 'sitting on the bed, rubbing his eyes, looking down', 23, 70],
  [BEDROOM, 'lying flat on his back, falling in sleep, closing eyes, head resting on the pillow', 23, 77],
];

const WORDS_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?\'"-()éüñßÆ日本½{}~\t\n        ';

function thrown(action: () => unknown): EngineError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    return error as EngineError;
  }
  throw new Error('expected an EngineError');
}

describe('story prompt composition', () => {
  let t5: TextTokenizer;
  beforeAll(async () => {
    t5 = await loadT5();
  });

  it.each(ANDROID.actions)('reproduces gen-bg_fg.ipynb: bgLen 22 and realLen for %j', (action, realLen) => {
    const story = composeStoryPrompt(t5, { background: ANDROID.background, character: ANDROID.character, action }, T5_MAX_LENGTH.dev);
    expect(story.prompt).toBe(`${ANDROID.background} ${ANDROID.character} ${action}`);
    expect([story.bgLen, story.realLen]).toEqual([22, realLen]);
    expect(story.background).toEqual({ start: 0, end: 22 });
    expect(story.foreground).toEqual({ start: 22, end: realLen });
  });

  it.each(STUDENT_SCENES)('reproduces gen-mix.ipynb for %j + %j', (background, action, bgLen, realLen) => {
    const story = composeStoryPrompt(t5, { background, character: STUDENT, action }, T5_MAX_LENGTH.dev);
    expect(story.prompt).toBe(`${background} ${STUDENT} ${action}`);
    expect([story.bgLen, story.realLen]).toEqual([bgLen, realLen]);
  });

  it('puts the EOS right after the foreground range in the encoded prompt', () => {
    const story = composeStoryPrompt(t5, { background: OFFICE, character: STUDENT, action: 'smiling' }, T5_MAX_LENGTH.schnell);
    const { ids, length } = t5.encode(story.prompt, T5_MAX_LENGTH.schnell);
    expect(length).toBe(story.foreground.end);
    expect(ids[story.foreground.end]).toBe(1);
  });

  it('finds the background tokens as a prefix of the prompt tokens for random text', () => {
    const seed = freshSeed('story prompt prefix');
    for (let i = 0; i < 100; i++) {
      const parts = {
        background: 'x' + randomText(seed, WORDS_ALPHABET, randomInt(seed, 0, 60)),
        character: 'y' + randomText(seed, WORDS_ALPHABET, randomInt(seed, 0, 60)),
        action: 'z' + randomText(seed, WORDS_ALPHABET, randomInt(seed, 0, 60)),
      };
      const story = composeStoryPrompt(t5, parts, T5_MAX_LENGTH.dev);
      const backgroundIds = t5.textIds(parts.background);
      expect(story.bgLen, JSON.stringify(parts)).toBe(backgroundIds.length);
      expect([...t5.textIds(story.prompt).subarray(0, story.bgLen)]).toEqual([...backgroundIds]);
    }
  });

  it.each(['background', 'character', 'action'] as const)('rejects an empty or blank %s, naming it', (part) => {
    for (const blank of ['', '  \t\n']) {
      const parts: StoryPromptParts = { background: 'In a park,', character: 'a girl,', action: 'running', [part]: blank };
      const error = thrown(() => composeStoryPrompt(t5, parts, T5_MAX_LENGTH.dev));
      expect(error.code).toBe('invalid-input');
      expect(error.message).toContain(part);
      expect(error.action).toContain(part);
    }
  });

  it('rejects a part that gives no tokens at all', () => {
    const parts = { background: '\u0001\u0002', character: 'a girl,', action: 'running' };
    expect(thrown(() => composeStoryPrompt(t5, parts, T5_MAX_LENGTH.dev)).message).toContain('background');
  });

  it('rejects a prompt over the limit, saying how many tokens it has and the limit', () => {
    const action = 'running through the park with a red kite, '.repeat(25);
    const parts = { background: 'In a park,', character: 'a girl,', action };
    const tokens = referenceT5Ids(`${parts.background} ${parts.character} ${action}`, t5Files.tokenizer.model.vocab.slice(0, 32000)).length;
    expect(tokens + 1).toBeGreaterThan(T5_MAX_LENGTH.schnell);
    expect(tokens + 1).toBeLessThanOrEqual(T5_MAX_LENGTH.dev);
    const error = thrown(() => composeStoryPrompt(t5, parts, T5_MAX_LENGTH.schnell));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain(`${tokens} T5 tokens`);
    expect(error.message).toContain(`limit is ${T5_MAX_LENGTH.schnell}`);
    expect(composeStoryPrompt(t5, parts, T5_MAX_LENGTH.dev).realLen).toBe(tokens);
  });

  it('reports a tokenizer whose background tokens are not a prefix of the prompt tokens', () => {
    // A stand-in tokenizer that tokenizes across the join (one id per character, 1 for a space
    // followed by a letter): the background's trailing space tokenizes differently alone.
    const joining: TextTokenizer = {
      textIds: (text) => Int32Array.from(text.match(/ ?[^ ]| $/g) ?? [], (piece) => (piece.length === 2 ? 1 : piece.codePointAt(0)!)),
      encode: () => {
        throw new Error('not used');
      },
    };
    const error = thrown(() => composeStoryPrompt(joining, { background: 'ab', character: 'cd', action: 'ef' }, 512));
    expect(error.code).toBe('internal');
    expect(error.message).toContain('not a prefix');
  });
});
