// Fuzz: mutations of valid story documents (prompt and tensor form), CLI story files as text, and
// the engine API's requests, through the real schemas and through the engine's own entry points.

import { describe, expect } from 'vitest';
import { Engine } from '../../../src/engine/engine';
import { EngineError } from '../../../src/engine/errors';
import { CliStorySchema } from '../../../src/schema/cli-story';
import { ImageRequestSchema, SelfCheckRequestSchema, StoryRunRequestSchema, TokenCountRequestSchema } from '../../../src/schema/request';
import { StoryDocumentSchema } from '../../../src/schema/story';
import { TensorStorySchema } from '../../../src/schema/tensor-story';
import { check, parseJsonText, type Checked } from '../../../src/schema/validate';
import { CLI_STORY, IMAGE_REQUEST, SCENES_STORY, SELF_CHECK_REQUEST, STORY, STORY_REQUEST, TENSOR_STORY, TOKEN_COUNT_REQUEST } from '../input-examples';
import { expectReadableMessages, fuzzDocuments, fuzzTest, fuzzTexts, mutatedDocuments, outcomeOfCall } from './fuzz';

const checkWith = (schema: Parameters<typeof check>[0]) => (input: unknown) => check(schema, input);
/** A JSON file's text, parsed then checked, as the CLI reads story files. */
const checkText = (schema: Parameters<typeof check>[0]) => (text: string): Checked<unknown> => {
  const parsed = parseJsonText(text);
  return parsed.ok ? check(schema, parsed.value) : parsed;
};

describe('story documents', () => {
  fuzzDocuments({ name: 'story document', examples: [STORY, SCENES_STORY], check: checkWith(StoryDocumentSchema) });
  fuzzDocuments({ name: 'CLI story JSON, prompt form', examples: [CLI_STORY, { ...STORY, schedule: 'schnell-4' }], check: checkWith(CliStorySchema) });
  fuzzDocuments({ name: 'CLI story JSON, tensor form', examples: [TENSOR_STORY], check: checkWith(TensorStorySchema) });
  fuzzTexts({ name: 'CLI story file, prompt form', examples: [JSON.stringify(CLI_STORY, null, 2)], check: checkText(CliStorySchema) });
  fuzzTexts({ name: 'CLI story file, tensor form', examples: [JSON.stringify(TENSOR_STORY)], check: checkText(TensorStorySchema) });
});

describe('engine requests', () => {
  fuzzDocuments({ name: 'image request', examples: [IMAGE_REQUEST], check: checkWith(ImageRequestSchema) });
  fuzzDocuments({ name: 'story request', examples: [STORY_REQUEST, { ...SCENES_STORY, models: STORY_REQUEST.models }], check: checkWith(StoryRunRequestSchema) });
  fuzzDocuments({ name: 'self-check request', examples: [SELF_CHECK_REQUEST], check: checkWith(SelfCheckRequestSchema), runs: 200 });
  fuzzDocuments({ name: 'token count request', examples: [TOKEN_COUNT_REQUEST], check: checkWith(TokenCountRequestSchema), runs: 200 });

  // The engine without a GPU or model files: a request its schema refuses must be refused as
  // 'invalid-input' before any other work; one it accepts fails later, with another code.
  const engine = new Engine(() => undefined);
  const entryPoints = [
    ['generateImage', IMAGE_REQUEST, ImageRequestSchema, (request: unknown) => engine.generateImage(request as never)],
    ['generateStory', STORY_REQUEST, StoryRunRequestSchema, (request: unknown) => engine.generateStory(request as never)],
    ['selfCheck', SELF_CHECK_REQUEST, SelfCheckRequestSchema, (request: unknown) => engine.selfCheck(request as never)],
  ] as const;
  for (const [method, example, schema, call] of entryPoints) {
    fuzzTest(`Engine.${method} refuses what its schema refuses, before any GPU work`, mutatedDocuments([example]), async (request) => {
      const outcome = await outcomeOfCall(() => call(request));
      expectReadableMessages(outcome);
      expect(outcome.valid).toBe(false);
      const { code } = (await call(request).catch((error: EngineError) => error)) as EngineError;
      expect(code === 'invalid-input').toBe(!check(schema, request).ok);
    }, 150);
  }
});
