// A story frame's prompt and the T5 token ranges CharaConsist reads its masks from
// (spec characonsist-official.md §4, official `modify_prompt_and_get_length`).
//
// Composition rule of the official code: one space is appended to the background and one to the
// character, then the three parts are concatenated: prompt = background + " " + character + " " + action.
// Token counts are T5 counts without the EOS (the official attention-mask sum minus 1):
//   bgLen   = count of `background + " "` alone,
//   realLen = count of the whole prompt,
// and within the T5 sequence the background is tokens [0, bgLen), the foreground (character and
// action together) is [bgLen, realLen); the EOS at realLen and the padding belong to neither.
//
// The official code assumes that `background + " "` tokenizes to a prefix of the whole prompt.
// With the T5 tokenizer this holds by construction (Metaspace splits at the space, and pieces
// never span a space), so a violation means the tokenizer is not what we think: it is reported as
// an error rather than carried on with wrong ranges, which would silently mix up the masks.

import { EngineError, invalidInput } from '../errors';
import type { TextTokenizer } from '../text/tokenizer';

export interface StoryPromptParts {
  background: string;
  character: string;
  action: string;
}

/** Half-open range of token positions [start, end) in the T5 sequence. */
export interface TokenRange {
  start: number;
  end: number;
}

export interface StoryPrompt {
  /** The text both encoders get. */
  prompt: string;
  /** T5 tokens of the background alone, without EOS. */
  bgLen: number;
  /** T5 tokens of the whole prompt, without EOS. */
  realLen: number;
  /** [0, bgLen) */
  background: TokenRange;
  /** [bgLen, realLen): character and action. */
  foreground: TokenRange;
}

/** `t5` must be the T5 tokenizer (no BOS: positions are counted from the first text token). */
export function composeStoryPrompt(t5: TextTokenizer, parts: StoryPromptParts, maxLength: number): StoryPrompt {
  requireText(parts);
  const backgroundIds = t5.textIds(parts.background + ' ');
  const prompt = parts.background + ' ' + parts.character + ' ' + parts.action;
  const promptIds = t5.textIds(prompt);
  const bgLen = backgroundIds.length;
  const realLen = promptIds.length;
  requireFit(realLen, maxLength);
  requireTokens(bgLen, realLen);
  requirePrefix(backgroundIds, promptIds, prompt);
  return { prompt, bgLen, realLen, background: { start: 0, end: bgLen }, foreground: { start: bgLen, end: realLen } };
}

function requireText(parts: StoryPromptParts): void {
  for (const [name, text] of Object.entries(parts)) {
    if (text.trim().length === 0) {
      throw invalidInput(`The ${name} of this frame is empty.`, `Describe the ${name} in a few words.`);
    }
  }
}

function requireFit(realLen: number, maxLength: number): void {
  if (realLen + 1 > maxLength) {
    throw invalidInput(
      `This prompt has ${realLen} T5 tokens plus the end-of-text token; the limit is ${maxLength} in all.`,
      `Shorten the background, character or action by at least ${realLen + 1 - maxLength} tokens (about one word each).`,
    );
  }
}

/** Text made only of characters the tokenizer drops (control characters) leaves a range empty. */
function requireTokens(bgLen: number, realLen: number): void {
  if (bgLen === 0 || realLen === bgLen) {
    const part = bgLen === 0 ? 'background' : 'character and action';
    throw invalidInput(`The ${part} of this frame gives no tokens.`, `Describe the ${part} with ordinary words.`);
  }
}

function requirePrefix(backgroundIds: Int32Array, promptIds: Int32Array, prompt: string): void {
  if (backgroundIds.some((id, i) => id !== promptIds[i])) {
    throw new EngineError(
      'internal',
      `The background's tokens are not a prefix of the tokens of "${prompt}", so its token range would be wrong.`,
      'Rephrase the end of the background; please also report this prompt.',
    );
  }
}
