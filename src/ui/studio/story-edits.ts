// What the editor does to a story document, as pure functions (the store applies them), and what
// a story implies: the document a run gets, each picture's size, scene sources, and the settings
// each picture's pixels depend on (so a result can tell when it no longer matches the editor).

import { frameSeed, MAX_FRAMES, MAX_SEED, MIN_SIDE, type FrameShot, type StoryDocument } from '../../schema/story';

/** Pixels per latent token side: sizes are multiples of it. */
export const TOKEN_PIXELS = 16;

/**
 * The document a run gets. In "same background" mode every frame takes the identity's place (the
 * editor keeps each frame's own text, so switching modes back and forth loses nothing), and only
 * scenes mode keeps "new scene" marks.
 */
export function runnableStory(story: StoryDocument): StoryDocument {
  const frames = story.frames.map(({ newScene, ...frame }): FrameShot => {
    const environment = story.mode === 'maintain' ? story.identity.environment : frame.environment;
    return story.mode === 'scenes' && newScene !== undefined ? { ...frame, environment, newScene } : { ...frame, environment };
  });
  return { ...story, frames };
}

export function setFrame(story: StoryDocument, index: number, patch: Partial<FrameShot>): StoryDocument {
  return { ...story, frames: story.frames.map((frame, i) => (i === index ? withoutUndefined({ ...frame, ...patch }) : frame)) };
}

/** A new last frame at the previous frame's place (or the identity's), with an empty action to fill in. */
export function addFrame(story: StoryDocument): StoryDocument {
  if (story.frames.length >= MAX_FRAMES) return story;
  const previous = story.frames.at(-1) ?? story.identity;
  return { ...story, frames: [...story.frames, { environment: previous.environment, action: '' }] };
}

export function removeFrame(story: StoryDocument, index: number): StoryDocument {
  return { ...story, frames: story.frames.filter((_, i) => i !== index) };
}

/** Moves frame `index` to `to` (clamped to the list). */
export function moveFrame(story: StoryDocument, index: number, to: number): StoryDocument {
  const target = Math.max(0, Math.min(story.frames.length - 1, to));
  const frames = [...story.frames];
  const [moved] = frames.splice(index, 1);
  frames.splice(target, 0, moved);
  return { ...story, frames };
}

/** The old index of every frame after moving `index` to `to`, or removing it (`to` undefined). */
export function frameOrigins(count: number, index: number, to?: number): number[] {
  const origins = Array.from({ length: count }, (_, i) => i).filter((i) => i !== index);
  if (to !== undefined) origins.splice(Math.max(0, Math.min(count - 1, to)), 0, index);
  return origins;
}

/** Pins the seed the frame uses now (its own or the story's), so a new story seed leaves it alone. */
export const lockSeed = (story: StoryDocument, index: number) => setFrame(story, index, { seed: frameSeed(story, story.frames[index]) });

export const unlockSeed = (story: StoryDocument, index: number) => setFrame(story, index, { seed: undefined });

export const isSeedLocked = (frame: FrameShot) => frame.seed !== undefined;

/** A fresh seed in the schema's range. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] % (MAX_SEED + 1);
}

/** The size a picture is made at: its own, else the story's. */
export function pictureSize(story: StoryDocument, shot: { width?: number; height?: number }): { width: number; height: number } {
  return { width: shot.width ?? story.width, height: shot.height ?? story.height };
}

/** Latent tokens of a picture (one per 16x16 pixels). */
export function pictureTokens(story: StoryDocument, shot: { width?: number; height?: number }): number {
  const { width, height } = pictureSize(story, shot);
  return (width / TOKEN_PIXELS) * (height / TOKEN_PIXELS);
}

/**
 * Scenes mode: whether frame `index` opens a scene (marked, or its place differs from the shot
 * before, as the engine decides).
 */
export function opensScene(story: StoryDocument, index: number): boolean {
  const previous = index === 0 ? story.identity : story.frames[index - 1];
  const frame = story.frames[index];
  return frame.newScene ?? frame.environment.trim() !== previous.environment.trim();
}

/** Scenes mode: the frame whose background frame `index` shares (undefined: the identity's, or none). */
export function sceneSource(story: StoryDocument, index: number): number | undefined {
  if (story.mode !== 'scenes' || opensScene(story, index)) return undefined;
  for (let k = index - 1; k >= 0; k--) if (opensScene(story, k)) return k;
  return undefined;
}

/** The settings the identity's pixels depend on, as a comparable string. */
export function identityKey(story: StoryDocument): string {
  const { character, identity, seed, schedule, maxSequenceLength } = story;
  return JSON.stringify([character, identity.environment, identity.action, pictureSize(story, identity), seed, schedule, maxSequenceLength ?? null]);
}

/** The settings frame `index`'s pixels depend on: the identity's, its own and its scene source's. */
export function frameKey(story: StoryDocument, index: number): string {
  const runnable = runnableStory(story);
  const shot = (k: number) => {
    const frame = runnable.frames[k];
    return [frame.environment, frame.action, pictureSize(runnable, frame), frameSeed(runnable, frame)];
  };
  const source = sceneSource(runnable, index);
  return JSON.stringify([identityKey(runnable), runnable.mode, runnable.useInterpolate ?? true, shot(index), source === undefined ? null : shot(source)]);
}

/** The next size down for "continue at a smaller size": three quarters per side, in whole tokens. */
export function smallerSide(side: number): number {
  return Math.max(MIN_SIDE, Math.floor((side * 0.75) / TOKEN_PIXELS) * TOKEN_PIXELS);
}

const smallerSize = ({ width, height }: { width: number; height: number }) => ({ width: smallerSide(width), height: smallerSide(height) });

/** Gives frames `indices` a size three quarters as large per side (their own, or the story's). */
export function shrinkFrames(story: StoryDocument, indices: readonly number[]): StoryDocument {
  return indices.reduce((next, index) => setFrame(next, index, smallerSize(pictureSize(next, next.frames[index]))), story);
}

/** Every picture of the story three quarters as large per side. */
export function shrinkStory(story: StoryDocument): StoryDocument {
  const shrink = <Shot extends { width?: number; height?: number }>(shot: Shot): Shot =>
    shot.width === undefined && shot.height === undefined ? shot : { ...shot, ...smallerSize(pictureSize(story, shot)) };
  return { ...story, ...smallerSize(story), identity: shrink(story.identity), frames: story.frames.map(shrink) };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
