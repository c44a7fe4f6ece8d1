// A story as one ZIP (fflate): the pictures, their masks, story.json (the same document a share
// link carries, so the story can be reopened), details.json (what the run produced beyond the
// pictures) and a README.txt saying what each file is.

import { strToU8, zipSync, type Zippable } from 'fflate';
import type { SharedStory } from '../schema/share-link';
import { pictureName } from './picture-metadata';
import type { PictureKey } from '../engine-api';

export interface ZipPicture {
  picture: PictureKey;
  /** PNG bytes (with or without the story in its text chunks) */
  png: Uint8Array;
  /** PNG of the character mask at pixel resolution (white: character) */
  maskPng: Uint8Array;
}

export interface StoryZipInput {
  shared: SharedStory;
  pictures: readonly ZipPicture[];
  /** anything else worth keeping (prompts, seeds, flags, points, timings, events), as JSON */
  details: unknown;
  /** where the app lives, for the README */
  appUrl: string;
}

export const STORY_JSON = 'story.json';
export const DETAILS_JSON = 'details.json';
export const README_TXT = 'README.txt';
export const pictureFile = (picture: PictureKey) => `pictures/${pictureName(picture)}.png`;
export const maskFile = (picture: PictureKey) => `masks/${pictureName(picture)}-mask.png`;

export function storyZip({ shared, pictures, details, appUrl }: StoryZipInput): Uint8Array<ArrayBuffer> {
  // PNGs are deflated already: stored, not compressed twice.
  const stored = (bytes: Uint8Array): Zippable[string] => [bytes, { level: 0 }];
  const files: Zippable = {
    [README_TXT]: strToU8(readme(shared, pictures, appUrl)),
    [STORY_JSON]: strToU8(`${JSON.stringify(shared, null, 2)}\n`),
    [DETAILS_JSON]: strToU8(`${JSON.stringify(details, null, 2)}\n`),
  };
  for (const { picture, png, maskPng } of pictures) {
    files[pictureFile(picture)] = stored(png);
    files[maskFile(picture)] = stored(maskPng);
  }
  return zipSync(files, { level: 6 });
}

function readme({ story, models, rng }: SharedStory, pictures: readonly ZipPicture[], appUrl: string): string {
  const lines = [
    'A CharaConsist story: the same character in every picture, drawn by FLUX.1 on the GPU of the',
    'person who made it.',
    '',
    `Character: ${story.character}`,
    `Mode: ${story.mode}, schedule: ${story.schedule}, seed: ${story.seed}, ${story.width}x${story.height}, ${story.frames.length} frames.`,
    `Models: ${models.map((model) => model.name ?? model.id).join(', ') || 'not recorded'}. Random numbers: ${rng}.`,
    '',
    'Files',
    ...pictures.map(({ picture }) => `  ${pictureFile(picture)}  (its mask: ${maskFile(picture)}; white = the character)`),
    `  ${STORY_JSON}  the story: open the app and drop this file (or any picture) on it to restore it`,
    `  ${DETAILS_JSON}  prompts, seeds, per-frame flags, matched points, timings and events of the run`,
    '',
    `The app: ${appUrl}`,
    'Generate the same story with the same models and random numbers to get the same pictures',
    '(on the same kind of GPU).',
  ];
  return `${lines.join('\n')}\n`;
}
