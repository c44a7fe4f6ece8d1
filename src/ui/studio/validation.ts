// The editor's verdict on a story: the schema's problems (by the field path the editor shows them
// beside) plus prompts T5 would not read whole. Pure, so it can be tested without a page.

import { StoryDocumentSchema, type SchedulePreset, type StoryDocument } from '../../schema/story';
import { check, type FieldProblem } from '../../schema/validate';
import { runnableStory } from './story-edits';
import { RunOptionsSchema } from './run-options';

/** T5 tokens a prompt may have when the story does not say (the engine's defaults: dev 512, schnell 256). */
export const DEFAULT_SEQUENCE_LENGTH: Record<SchedulePreset, number> = { 'dev-50': 512, 'schnell-4': 256 };

/** From this share of the limit on, a prompt's counter warns that little room is left. */
export const NEAR_LIMIT_SHARE = 0.9;

/** The text of a shot's prompt, as the engine composes it (place, character, action; official rule). */
export const promptText = (character: string, shot: { environment: string; action: string }) => `${shot.environment} ${character} ${shot.action}`;

/** The T5 tokens a prompt of this story may have, the end-of-text token included. */
export function sequenceLength(story: Pick<StoryDocument, 'maxSequenceLength' | 'schedule'>, model?: SchedulePreset): number {
  return story.maxSequenceLength ?? DEFAULT_SEQUENCE_LENGTH[model ?? story.schedule];
}

export type PromptFit = { kind: 'unknown' } | { kind: 'fits' | 'near-limit' | 'cut-off'; tokens: number; limit: number };

/** How a prompt of `tokens` T5 tokens (without the end-of-text token) fits a limit of `limit` tokens in all. */
export function promptFit(tokens: number | undefined, limit: number): PromptFit {
  if (tokens === undefined) return { kind: 'unknown' };
  const used = tokens + 1;
  return { kind: used > limit ? 'cut-off' : used >= NEAR_LIMIT_SHARE * limit ? 'near-limit' : 'fits', tokens, limit };
}

/** Shot paths in document order: 'identity', 'frames[0]', ... */
export const shotPaths = (story: StoryDocument) => ['identity', ...story.frames.map((_, k) => `frames[${k}]`)];

/**
 * Every problem that stops Generate, by field path. `tokensOf` gives a text's T5 token count
 * when known (prompts not yet counted are not judged); `model` is the stored transformer's preset.
 */
export function storyProblems(story: StoryDocument, tokensOf: (text: string) => number | undefined = () => undefined, model?: SchedulePreset): FieldProblem[] {
  const runnable = runnableStory(story);
  const checked = check(StoryDocumentSchema, runnable);
  // In "same background" mode the frames take the identity's place: its field carries the problem.
  const hidden = (path: string) => story.mode === 'maintain' && /^frames\[\d+\]\.environment$/.test(path);
  const problems = checked.ok ? [] : checked.problems.filter(({ path }) => !hidden(path)).map((problem) => editorWording(problem, runnable));
  const limit = sequenceLength(runnable, model);
  [runnable.identity, ...runnable.frames].forEach((shot, i) => {
    const fit = promptFit(tokensOf(promptText(runnable.character, shot)), limit);
    if (fit.kind === 'cut-off') {
      problems.push({
        path: `${shotPaths(runnable)[i]}.action`,
        message: `the prompt (place, character and action) has ${fit.tokens} T5 tokens and the end mark; the limit is ${limit}: shorten it by ${plural(fit.tokens + 1 - limit, 'token')}, or raise the token limit`,
      });
    }
  });
  return problems;
}

const FIELD_NAMES: Record<string, string> = {
  character: 'Character', environment: 'Place', action: 'Action', width: 'Width', height: 'Height', seed: 'Seed',
  mode: 'Mode', schedule: 'Schedule', frames: 'Frames', maxSequenceLength: 'Token limit', useInterpolate: 'Token merge',
};

/** A field path in the editor's words: `frames[1].width` -> "Frame 2, width". */
export function fieldName(path: string): string {
  const frame = /^frames\[(\d+)\]\.?(.*)$/.exec(path);
  const [owner, key] = frame ? [`Frame ${Number(frame[1]) + 1}`, frame[2]] : path.startsWith('identity.') ? ['Identity', path.slice(9)] : ['', path];
  const name = key ? (FIELD_NAMES[key] ?? key) : '';
  if (!owner) return name === 'Seed' ? 'Story seed' : name || 'Story';
  return name ? `${owner}, ${name.toLowerCase()}` : owner;
}

/** Everything that stops Generate: the story's problems, then the run options'. */
export function editorProblems(story: StoryDocument, run: unknown, tokensOf: (text: string) => number | undefined, model?: SchedulePreset): FieldProblem[] {
  return [...storyProblems(story, tokensOf, model), ...runProblems(run)];
}

/** Problems of the run options, at `run.<field>` paths. */
export function runProblems(run: unknown): FieldProblem[] {
  const checked = check(RunOptionsSchema, run);
  return checked.ok ? [] : checked.problems.map((problem) => ({ path: `run.${problem.path}`, message: editorWording(problem, run).message }));
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/** Problems grouped by path, in order. */
export function problemsByPath(problems: readonly FieldProblem[]): Map<string, string[]> {
  const byPath = new Map<string, string[]>();
  for (const { path, message } of problems) byPath.set(path, [...(byPath.get(path) ?? []), message]);
  return byPath;
}

/** A cleared number field holds NaN (null once persisted): say so plainly instead of "got NaN". */
function editorWording(problem: FieldProblem, document: unknown): FieldProblem {
  const value = valueAt(document, problem.path);
  const cleared = value === null || (typeof value === 'number' && Number.isNaN(value));
  return cleared ? { path: problem.path, message: 'is empty: enter a whole number' } : problem;
}

function valueAt(document: unknown, path: string): unknown {
  return path
    .split(/[.[\]]+/)
    .filter(Boolean)
    .reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), document);
}
