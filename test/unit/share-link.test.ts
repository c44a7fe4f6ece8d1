// The share-link codec: round trips of random stories, the link's content read independently
// (Node's zlib), version checks, size limits both ways, and a message for every kind of bad link.

import fc from 'fast-check';
import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeShareFragment, encodeShareFragment, isShareFragment, MAX_LINK_JSON_BYTES, MAX_LINK_PAYLOAD_CHARS, shareLink } from '../../src/export/share-link';
import { sharedStory } from '../../src/export/shared-story';
import { NOISE_VERSION } from '../../src/engine/sampling/noise';
import { RNG_VERSION, type SharedStory } from '../../src/schema/share-link';
import { MAX_FRAMES, MAX_TEXT } from '../../src/schema/story';
import { freshSeed, randomInt } from '../helpers/random';
import { importError } from './import-errors';
import { sharedStoryArbitrary } from './share-arbitraries';

const EXAMPLE: SharedStory = sharedStory(
  {
    mode: 'scenes',
    character: 'a knight with a red cloak',
    identity: { environment: 'In a misty forest,', action: 'stands still.' },
    frames: [
      { environment: 'In a misty forest,', action: 'draws a sword.', seed: 7 },
      { environment: 'On a stone bridge,', action: 'rides a horse.', width: 48, newScene: true },
    ],
    width: 32,
    height: 32,
    seed: 5,
    schedule: 'schnell-4',
    maxSequenceLength: 24,
  },
  [{ component: 'transformer', id: 'flux1-schnell-q4_0', name: 'FLUX.1-schnell Q4_0', sha256: '90a393d3a44bec691c707003f434fdde06064b870bb3c206eb7a4f109b25ff4e' }],
  '0.1.0',
);

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
/** A link made here from any JSON value (Node's zlib, not the code under test). */
const linkOf = (value: unknown, version = 1) => `#story=v${version}.${base64url(deflateSync(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))))}`;

describe('share links', () => {
  it('the RNG version a link records is the engine noise recipe', () => {
    expect(RNG_VERSION).toBe(NOISE_VERSION);
  });

  it('round-trip random stories exactly', () => {
    fc.assert(
      fc.property(sharedStoryArbitrary(), (shared) => {
        const fragment = encodeShareFragment(shared);
        expect(isShareFragment(fragment)).toBe(true);
        expect(fragment).toMatch(/^#story=v1\.[A-Za-z0-9_-]+$/);
        expect(decodeShareFragment(fragment)).toEqual(shared);
      }),
      { numRuns: 150 },
    );
  });

  it('hold the story as zlib-compressed JSON that any zlib reads', () => {
    const fragment = encodeShareFragment(EXAMPLE);
    const payload = fragment.slice('#story=v1.'.length);
    expect(JSON.parse(inflateSync(Buffer.from(payload, 'base64url')).toString('utf8'))).toEqual(EXAMPLE);
    // A link made by another zlib decodes too.
    expect(decodeShareFragment(linkOf(EXAMPLE))).toEqual(EXAMPLE);
  });

  it('keep a typical story short', () => {
    expect(encodeShareFragment(EXAMPLE).length).toBeLessThan(600);
  });

  it('replace the page address fragment, keeping path and query', () => {
    const link = shareLink('https://example.org/app/?lang=ja#old', EXAMPLE);
    expect(link.startsWith('https://example.org/app/?lang=ja#story=v1.')).toBe(true);
    expect(decodeShareFragment(new URL(link).hash)).toEqual(EXAMPLE);
  });

  it('refuse a story too long for a link when making it', () => {
    const seed = freshSeed('long story');
    // Random letters barely compress: 33 shots of 2 x 2000 characters.
    const letters = () => Array.from({ length: MAX_TEXT }, () => String.fromCharCode(randomInt(seed, 0x4e00, 0x9fff))).join('');
    const shot = () => ({ environment: letters(), action: letters() });
    const long = sharedStory({ ...EXAMPLE.story, character: letters(), identity: shot(), frames: Array.from({ length: MAX_FRAMES }, shot) }, []);
    const error = importError(() => encodeShareFragment(long));
    expect(error.code).toBe('too-large');
    expect(error.action).toMatch(/PNG or the ZIP/);
  });
});

describe('bad share links', () => {
  it('newer link versions are "too new"', () => {
    const error = importError(() => decodeShareFragment(linkOf(EXAMPLE, 2)));
    expect(error.code).toBe('too-new');
    expect(error.message).toMatch(/link version 2; this app reads 1/);
    expect(error.action).toMatch(/Reload the app while online/);
  });

  it('a newer story format or another RNG inside a v1 link is "too new"', () => {
    expect(importError(() => decodeShareFragment(linkOf({ ...EXAMPLE, version: 7, story: { future: true } }))).message).toMatch(/story format 7/);
    expect(importError(() => decodeShareFragment(linkOf({ ...EXAMPLE, rng: 'threefry/2' }))).code).toBe('too-new');
  });

  it('a link version 0 or none is not recognised', () => {
    expect(importError(() => decodeShareFragment(linkOf(EXAMPLE, 0))).code).toBe('not-recognised');
    expect(importError(() => decodeShareFragment('#story=' + base64url(deflateSync('{}')))).code).toBe('not-recognised');
    expect(importError(() => decodeShareFragment('#other=v1.abc')).code).toBe('not-recognised');
  });

  it('an over-long link is refused before it is decoded', () => {
    const error = importError(() => decodeShareFragment(`#story=v1.${'A'.repeat(MAX_LINK_PAYLOAD_CHARS + 1)}`));
    expect(error.code).toBe('too-large');
  });

  it('a link that inflates past the limit (zip bomb) is refused', () => {
    const bomb = `{"a":"${' '.repeat(16 * MAX_LINK_JSON_BYTES)}"}`;
    const fragment = linkOf(bomb);
    expect(fragment.length).toBeLessThan(MAX_LINK_PAYLOAD_CHARS);
    expect(importError(() => decodeShareFragment(fragment)).code).toBe('too-large');
  });

  it('a link cut anywhere is refused', () => {
    const seed = freshSeed('cut link');
    const fragment = encodeShareFragment(EXAMPLE);
    for (const length of [fragment.length - 1, fragment.length - 5, randomInt(seed, 11, fragment.length - 2), 11, 10]) {
      expect(['damaged', 'not-recognised']).toContain(importError(() => decodeShareFragment(fragment.slice(0, length))).code);
    }
  });

  it('a link with a character changed is refused as damaged', () => {
    const seed = freshSeed('tampered link');
    const fragment = encodeShareFragment(EXAMPLE);
    const start = '#story=v1.'.length;
    // The last character may only carry padding bits; every other one changes the bytes.
    const at = randomInt(seed, start, fragment.length - 2);
    const replacement = fragment[at] === 'A' ? 'B' : 'A';
    const tampered = fragment.slice(0, at) + replacement + fragment.slice(at + 1);
    const error = importError(() => decodeShareFragment(tampered));
    expect(error.code).toBe('damaged');
    expect(error.action).toMatch(/copy the link again/);
  });

  it('characters outside base64url are refused', () => {
    for (const payload of ['abc$def', 'ab cd', '<img src=x onerror=alert(1)>', '%3Cscript%3E', 'abcde']) {
      expect(importError(() => decodeShareFragment(`#story=v1.${payload}`)).code).toBe('damaged');
    }
  });

  it('JSON that is not a story names the fields at fault', () => {
    const cases: [unknown, RegExp][] = [
      ['not json at all', /does not hold readable story data/],
      [[1, 2, 3], /story/],
      [{ ...EXAMPLE, story: { ...EXAMPLE.story, width: 40 } }, /story\.width: must be a multiple of 16/],
      [{ ...EXAMPLE, story: { ...EXAMPLE.story, frames: [] } }, /story\.frames: needs at least 1 frames/],
      [{ ...EXAMPLE, models: [{ component: 'transformer', id: '<img src=x>' }] }, /models\[0\]\.id/],
      [{ ...EXAMPLE, extra: '<script>' }, /extra: is not a known field/],
      [{ ...EXAMPLE, story: { ...EXAMPLE.story, seed: -1 } }, /story\.seed: must be at least 0/],
    ];
    for (const [value, message] of cases) {
      const error = importError(() => decodeShareFragment(linkOf(value)));
      expect(['invalid', 'damaged']).toContain(error.code);
      expect(error.message).toMatch(message);
    }
  });
});
