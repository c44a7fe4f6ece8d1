// Fuzz: stories that come from outside — share links (the text of the fragment, and mutated
// documents packed as real links) and PNGs with their story in a text chunk (mutated bytes, and
// mutated story text in a well-formed chunk) — through the real readers: each ends in a valid
// story or an ImportError with readable words, never another exception.

import { deflateSync } from 'node:zlib';
import { describe, expect } from 'vitest';
import { ImportError } from '../../../src/export/import-error';
import { pictureTexts, storyFromPng, STORY_KEYWORD } from '../../../src/export/picture-metadata';
import { encodePng } from '../../../src/export/png';
import { decodeShareFragment, encodeShareFragment } from '../../../src/export/share-link';
import { sharedStory } from '../../../src/export/shared-story';
import { SharedStorySchema, type SharedStory } from '../../../src/schema/share-link';
import { check, type Checked } from '../../../src/schema/validate';
import { SCENES_STORY, STORY } from '../input-examples';
import { expectReadableMessages, fuzzBytes, fuzzDocuments, fuzzTest, fuzzTexts, mutatedDocuments, mutatedTexts } from './fuzz';

const EXAMPLES: SharedStory[] = [
  sharedStory(STORY, [{ component: 'transformer', id: 'flux1-schnell-q4_0', name: 'FLUX.1-schnell Q4_0', sha256: '90a393d3a44bec691c707003f434fdde06064b870bb3c206eb7a4f109b25ff4e' }, { component: 'vae', id: 'ae' }], '0.1.0'),
  sharedStory(SCENES_STORY, []),
];
const PARAMETERS = { picture: { frame: 0 }, prompt: 'a prompt', seed: 1, width: 16, height: 16 } as const;

/** A reader that throws ImportError, as a Checked result (the fuzz helpers' currency). */
const accepted = (read: () => SharedStory): Checked<unknown> => ({ ok: true, value: read() });

/**
 * A reader opens a document exactly when the schema accepts it (with the schema's value), and
 * refuses it with readable words otherwise; only a document too large for its carrier may be
 * refused although the schema would take it.
 */
function expectSchemaVerdict(read: () => SharedStory, document: unknown): void {
  const verdict = check(SharedStorySchema, document);
  let value: SharedStory;
  try {
    value = read();
  } catch (error) {
    if (!(error instanceof ImportError)) throw error;
    // Field paths name the input's own keys (any text): like quoted values, they may say anything.
    const paths = verdict.ok ? [] : verdict.problems.map((problem) => problem.path).filter(Boolean).sort((a, b) => b.length - a.length);
    const unquoted = (message: string) => paths.reduce((text, path) => text.split(path).join('""'), message);
    expectReadableMessages({ valid: false, messages: [unquoted(error.message), error.action] });
    if (error.code !== 'too-large') expect(verdict.ok, `refused (${error.code}: ${error.message}) a document the schema accepts`).toBe(false);
    return;
  }
  expect(verdict).toEqual({ ok: true, value });
}

describe('share links', () => {
  fuzzDocuments({ name: 'shared story', examples: EXAMPLES, check: (input) => check(SharedStorySchema, input) });

  fuzzTexts({ name: 'share link text', examples: EXAMPLES.map(encodeShareFragment), check: (text) => accepted(() => decodeShareFragment(text)), typed: [ImportError], runs: 600 });

  fuzzTest('share links around mutated documents are opened exactly when the schema accepts them', mutatedDocuments(EXAMPLES), async (document) => {
    // A link carries JSON: what JSON cannot hold (BigInt, undefined) cannot be in one.
    let json: string | undefined;
    try {
      json = JSON.stringify(document);
    } catch {
      return;
    }
    if (json === undefined) return;
    const link = `#story=v1.${deflateSync(Buffer.from(json)).toString('base64url')}`;
    expectSchemaVerdict(() => decodeShareFragment(link), JSON.parse(json));
  }, 400);
});

describe('PNG-embedded stories', () => {
  fuzzBytes({
    name: 'PNG with a story',
    examples: () =>
      EXAMPLES.map((shared, i) => {
        const bytes = encodePng(new Uint8Array(16 * 16 * 4).fill(7 * i), 16, 16, { texts: pictureTexts(shared, PARAMETERS) });
        // Everything before the pixels: signature, header and both text chunks.
        return { name: `story ${i}`, bytes, headerBytes: bytes.length - 40 };
      }),
    read: async (_example, bytes) => storyFromPng(bytes.read(0, bytes.size)),
    typed: [ImportError],
    runs: 400,
  });

  fuzzTest('a well-formed PNG around mutated story text is opened exactly when the schema accepts it', mutatedTexts(EXAMPLES.map((shared) => JSON.stringify(shared))), async (text) => {
    const png = encodePng(new Uint8Array(4), 1, 1, { texts: [{ keyword: STORY_KEYWORD, text }] });
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      document = Symbol('not JSON');
    }
    expectSchemaVerdict(() => storyFromPng(png), document);
  }, 400);
});
