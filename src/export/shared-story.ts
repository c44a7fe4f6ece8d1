// Building the shared story document and reading one back from JSON text, whatever carried it
// (link, PNG, story.json): versions first (a newer app's document gets "too new", not a list of
// field errors), then every field through the schema.

import { RNG_VERSION, SHARED_STORY_FORMAT, SHARED_STORY_VERSION, SharedStorySchema, type ModelRef, type SharedStory } from '../schema/share-link';
import type { StoryDocument } from '../schema/story';
import { check, describeProblems, shown } from '../schema/validate';
import { ImportError, type ImportSource } from './import-error';

export function sharedStory(story: StoryDocument, models: readonly ModelRef[], app?: string): SharedStory {
  return { format: SHARED_STORY_FORMAT, version: SHARED_STORY_VERSION, rng: RNG_VERSION, ...(app ? { app } : {}), story, models: [...models] };
}

export function parseSharedStory(json: string, { what, askAgain }: ImportSource): SharedStory {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new ImportError('damaged', `${what} does not hold readable story data.`, askAgain);
  }
  refuseNewer(value, what);
  const checked = check(SharedStorySchema, value);
  if (!checked.ok) {
    throw new ImportError('invalid', `${what} holds a story with problems: ${describeProblems(checked.problems)}.`, 'Ask the sender to share the story again from the app.');
  }
  return checked.value;
}

function refuseNewer(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null) return;
  const { version, rng } = value as { version?: unknown; rng?: unknown };
  const update = 'Reload the app while online to update it, then open it again.';
  if (typeof version === 'number' && version > SHARED_STORY_VERSION) {
    throw new ImportError('too-new', `${what} was made by a newer version of the app (story format ${shown(version)}; this app reads ${SHARED_STORY_VERSION}).`, update);
  }
  if (typeof rng === 'string' && rng !== RNG_VERSION) {
    throw new ImportError('too-new', `${what} was made with random numbers ${shown(rng)}; this app draws ${shown(RNG_VERSION)} and could not redraw the same pictures.`, update);
  }
}
