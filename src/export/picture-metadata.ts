// What an exported picture says about itself: an A1111-style `parameters` text (prompt, then one
// line of "Key: value" pairs, which image viewers and other tools already read) and the whole
// story under `characonsist`, from which the app restores the story when the PNG is dropped on it.

import type { PictureKey } from '../engine-api';
import type { SharedStory } from '../schema/share-link';
import type { SchedulePreset } from '../schema/story';
import { ImportError } from './import-error';
import { PNG_SOURCE, readPngTexts, type PngText } from './png';
import { parseSharedStory } from './shared-story';

export const STORY_KEYWORD = 'characonsist';
export const PARAMETERS_KEYWORD = 'parameters';

export const SCHEDULE_STEPS: Record<SchedulePreset, number> = { 'dev-50': 50, 'schnell-4': 4 };

/** What one picture of a story was made from. */
export interface PictureParameters {
  picture: PictureKey;
  prompt: string;
  seed: number;
  width: number;
  height: number;
}

export function pictureName(picture: PictureKey): string {
  return picture === 'identity' ? 'identity' : `frame-${String(picture.frame + 1).padStart(2, '0')}`;
}

export function pictureLabel(picture: PictureKey): string {
  return picture === 'identity' ? 'Identity' : `Frame ${picture.frame + 1}`;
}

export function pictureTexts(shared: SharedStory, parameters: PictureParameters): PngText[] {
  return [
    { keyword: PARAMETERS_KEYWORD, text: a1111Parameters(shared, parameters) },
    { keyword: STORY_KEYWORD, text: JSON.stringify(shared) },
  ];
}

/** `prompt\nSteps: 4, Sampler: Euler, Seed: 5, Size: 32x32, Model: …, Model hash: …, …` */
export function a1111Parameters(shared: SharedStory, { picture, prompt, seed, width, height }: PictureParameters): string {
  const transformer = shared.models.find((model) => model.component === 'transformer');
  const pairs: [string, string | number | undefined][] = [
    ['Steps', SCHEDULE_STEPS[shared.story.schedule]],
    ['Sampler', 'Euler'],
    ['Schedule', shared.story.schedule],
    ['Seed', seed],
    ['Size', `${width}x${height}`],
    ['Model', transformer?.name ?? transformer?.id],
    // A1111's "AutoV2" model hash: the first 10 hex digits of the file's sha256.
    ['Model hash', transformer?.sha256?.slice(0, 10)],
    ['RNG', shared.rng],
    ['CharaConsist', `${pictureLabel(picture)} of ${shared.story.frames.length} frames, ${shared.story.mode}`],
    ['Version', shared.app && `characonsist-web ${shared.app}`],
  ];
  const line = pairs
    .filter((pair): pair is [string, string | number] => pair[1] !== undefined)
    .map(([key, value]) => `${key}: ${quoted(String(value))}`)
    .join(', ');
  return `${prompt}\n${line}`;
}

/** A1111's rule: a value with a comma, colon or newline is written as a JSON string. */
const quoted = (value: string) => (/[,:\n]/.test(value) ? JSON.stringify(value) : value);

/** The story a dropped PNG carries; throws ImportError (not a PNG, damaged, no story, invalid, too new). */
export function storyFromPng(png: Uint8Array): SharedStory {
  const texts = readPngTexts(png).filter((text) => text.keyword === STORY_KEYWORD);
  if (texts.length === 0) {
    throw new ImportError('no-story', 'This PNG has no story in it: it was not made by this app, or was saved without metadata.', 'Drop a PNG saved with "Include story in PNG" on, or open the story\'s link.');
  }
  if (texts.length > 1) throw new ImportError('invalid', 'This PNG holds more than one story.', 'Export the picture again from the app and drop the new file.');
  return parseSharedStory(texts[0].text, { ...PNG_SOURCE, what: "This PNG's story" });
}
