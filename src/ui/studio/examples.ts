// Example stories, one per mode, one click away in the editor.

import type { StoryDocument } from '../../schema/story';

export interface ExampleStory {
  title: string;
  /** what the example shows, in a few words */
  about: string;
  story: StoryDocument;
}

export const EXAMPLES: readonly ExampleStory[] = [
  {
    title: 'Harbour morning',
    about: 'same background in every frame',
    story: {
      mode: 'maintain',
      character: 'a young woman with short red hair, a green raincoat and a leather satchel',
      identity: { environment: 'In a quiet harbour town at dawn,', action: 'is standing on the pier, looking at the viewer.' },
      frames: [
        { environment: 'In a quiet harbour town at dawn,', action: 'is buying bread at a market stall.' },
        { environment: 'In a quiet harbour town at dawn,', action: 'is reading a folded map.' },
        { environment: 'In a quiet harbour town at dawn,', action: 'is feeding a grey cat.' },
      ],
      width: 1024,
      height: 1024,
      seed: 2025,
      schedule: 'schnell-4',
    },
  },
  {
    title: 'A detective’s day',
    about: 'a new place in every frame',
    story: {
      mode: 'switch',
      character: 'an elderly detective with a grey moustache, a brown tweed coat and a red scarf',
      identity: { environment: 'In a plain studio,', action: 'is standing, looking at the viewer.' },
      frames: [
        { environment: 'In a busy train station,', action: 'is reading a newspaper on a bench.' },
        { environment: 'In a library full of old books,', action: 'is examining a letter with a magnifying glass.' },
        { environment: 'On a rainy street at night,', action: 'is holding an umbrella under a street lamp.' },
      ],
      width: 1024,
      height: 1024,
      seed: 77,
      schedule: 'schnell-4',
    },
  },
  {
    title: 'The knight’s journey',
    about: 'two scenes; the bridge scene is wide',
    story: {
      mode: 'scenes',
      character: 'a knight in silver armour with a red cloak and a round wooden shield',
      identity: { environment: 'In a misty pine forest,', action: 'is standing still, looking at the viewer.' },
      frames: [
        { environment: 'In a misty pine forest,', action: 'is drawing a sword.' },
        { environment: 'On an old stone bridge over a river,', action: 'is riding a white horse.', width: 1280, height: 720, newScene: true },
        { environment: 'On an old stone bridge over a river,', action: 'is waving to a crowd.', width: 1280, height: 720 },
      ],
      width: 1024,
      height: 1024,
      seed: 314,
      schedule: 'schnell-4',
    },
  },
];
