// A frame's mask at pixel resolution and the flags summarising its events.

import { describe, expect, it } from 'vitest';
import type { StoryEvent } from '../../src/engine-api';
import { frameFlags, maskPixels } from '../../src/engine/characonsist/frame-outputs';

describe('maskPixels', () => {
  it('gives each token its 16x16 pixels, row-major', () => {
    // 2 rows x 3 cols of tokens -> 32 x 48 pixels
    const pixels = maskPixels(Uint8Array.of(1, 0, 1, 0, 1, 0), 2, 3);
    expect(pixels.length).toBe(32 * 48);
    const at = (x: number, y: number) => pixels[y * 48 + x];
    expect([at(0, 0), at(15, 15), at(16, 0), at(31, 15), at(32, 0), at(47, 15)]).toEqual([1, 1, 0, 0, 1, 1]);
    expect([at(0, 16), at(15, 31), at(16, 16), at(31, 31), at(32, 16), at(47, 31)]).toEqual([0, 0, 1, 1, 0, 0]);
    expect(pixels.reduce((sum, value) => sum + value, 0)).toBe(3 * 256);
  });
});

describe('frameFlags', () => {
  const mask = (foreground: number, size = 16) => new Uint8Array(size).fill(1, 0, foreground);

  it('flags an empty mask, and no few-matches without a foreground', () => {
    expect(frameFlags(0, mask(0), 0, [])).toEqual({ emptyMask: true, fewMatches: false, foregroundFallback: false, backgroundNotShared: false });
  });

  it('flags fewer valid matches than a quarter of the foreground tokens', () => {
    expect(frameFlags(0, mask(8), 1, []).fewMatches).toBe(true);
    expect(frameFlags(0, mask(8), 2, []).fewMatches).toBe(false);
  });

  it("reads only this frame's events, and the identity's for every frame", () => {
    const events: StoryEvent[] = [
      { kind: 'no-valid-match', frame: 1, run: 'pre' },
      { kind: 'background-size-mismatch', frame: 2 },
      { kind: 'empty-shared-background', frame: 3, run: 'full', step: 4 },
      { kind: 'empty-foreground', frame: 4, run: 'full', step: 0 },
    ];
    const flags = [0, 1, 2, 3, 4].map((frame) => frameFlags(frame, mask(4), 4, events));
    expect(flags.map((f) => f.foregroundFallback)).toEqual([false, true, false, false, true]);
    expect(flags.map((f) => f.backgroundNotShared)).toEqual([false, false, true, true, false]);
    expect(frameFlags(0, mask(4), 4, [{ kind: 'empty-identity-foreground' }]).foregroundFallback).toBe(true);
  });
});
