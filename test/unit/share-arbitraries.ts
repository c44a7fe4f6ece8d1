// fast-check arbitraries of valid shared stories, with text people (and attackers) write:
// any Unicode, CJK, emoji, quotes, and HTML that would run script if it ever reached the page.

import fc from 'fast-check';
import { MODEL_COMPONENTS } from '../../src/schema/catalog';
import { RNG_VERSION, SHARED_STORY_FORMAT, SHARED_STORY_VERSION, type ModelRef, type SharedStory } from '../../src/schema/share-link';
import { MAX_SEED, MAX_SIDE, MAX_TEXT, MIN_SIDE, SCHEDULE_PRESETS, STORY_MODES, type StoryDocument } from '../../src/schema/story';

export const HTML_PAYLOADS = [
  '<img src=x onerror="window.__pwned=1">',
  '<script>window.__pwned=1</script>',
  '"><svg onload=window.__pwned=1>',
  "javascript:window.__pwned=1//'",
];

const words = fc.constantFrom('a knight', 'with a red cloak', '赤いマントの騎士', '在雨中', '🛡️', 'café', '"quoted"', '\\', ...HTML_PAYLOADS);
export const storyText = (maxParts = 6) =>
  fc
    .tuple(fc.array(fc.oneof(words, fc.string({ unit: 'binary', minLength: 1, maxLength: 20 })), { minLength: 1, maxLength: maxParts }), words)
    .map(([parts, last]) => `${parts.join(' ')} ${last}`.slice(0, MAX_TEXT))
    .filter((text) => text.trim().length > 0);

const side = fc.integer({ min: MIN_SIDE / 16, max: MAX_SIDE / 16 }).map((n) => n * 16);
const seed = fc.integer({ min: 0, max: MAX_SEED });

const shot = { environment: storyText(), action: storyText(), width: fc.option(side, { nil: undefined }), height: fc.option(side, { nil: undefined }) };

/** drops keys whose value is undefined, as JSON does */
const defined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

export const storyDocument = (maxFrames = 5): fc.Arbitrary<StoryDocument> =>
  fc
    .record({
      mode: fc.constantFrom(...STORY_MODES),
      character: storyText(),
      identity: fc.record(shot).map(defined),
      frames: fc.array(fc.record({ ...shot, seed: fc.option(seed, { nil: undefined }), newScene: fc.option(fc.boolean(), { nil: undefined }) }).map(defined), { minLength: 1, maxLength: maxFrames }),
      width: side,
      height: side,
      seed,
      schedule: fc.constantFrom(...SCHEDULE_PRESETS),
      useInterpolate: fc.option(fc.boolean(), { nil: undefined }),
      maxSequenceLength: fc.option(fc.integer({ min: 1, max: 512 }), { nil: undefined }),
    })
    .map(defined);

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex'));

const modelId = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,40}$/);
const modelName = fc.option(storyText(2).map((t) => t.slice(0, 120)), { nil: undefined });
const modelRef = (component: ModelRef['component']): fc.Arbitrary<ModelRef> =>
  fc.record({ component: fc.constant(component), id: modelId, name: modelName, sha256: fc.option(hex64, { nil: undefined }) }).map(defined);

/** Some of the four components, each at most once, in catalog order. */
export const modelRefs: fc.Arbitrary<ModelRef[]> = fc
  .tuple(...MODEL_COMPONENTS.map((component) => fc.option(modelRef(component), { nil: undefined })))
  .map((refs) => refs.filter((ref): ref is ModelRef => ref !== undefined));

export const sharedStoryArbitrary = (maxFrames = 5): fc.Arbitrary<SharedStory> =>
  fc.record({ story: storyDocument(maxFrames), models: modelRefs, app: fc.option(fc.constant('0.1.0'), { nil: undefined }) }).map(({ story, models, app }) =>
    defined({ format: SHARED_STORY_FORMAT, version: SHARED_STORY_VERSION, rng: RNG_VERSION, app, story, models }),
  );
