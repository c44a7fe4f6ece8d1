// What a frame's result shows besides its image: the foreground mask at pixel resolution and
// flags that summarise the story's events for that frame (for the UI and the CLI's story.json).

import type { FrameFlags, StoryEvent } from '../../engine-api';

/** Pixels per token side: FLUX's 8x VAE times its 2x2 patches. */
const TOKEN_PIXELS = 16;

/**
 * Below this share of the frame's foreground tokens with a valid match, a frame is flagged as
 * having few matches. Our heuristic for the UI, not a value of the official code.
 */
export const FEW_MATCHES_FRACTION = 0.25;

/** A token-grid mask [rows * cols] at pixel resolution [16 rows * 16 cols]: each token's 16x16 pixels take its value. */
export function maskPixels(mask: Uint8Array, rows: number, cols: number): Uint8Array {
  const width = TOKEN_PIXELS * cols;
  const pixels = new Uint8Array(width * TOKEN_PIXELS * rows);
  for (let y = 0; y < TOKEN_PIXELS * rows; y++) {
    const tokenRow = Math.floor(y / TOKEN_PIXELS) * cols;
    for (let x = 0; x < width; x++) pixels[y * width + x] = mask[tokenRow + Math.floor(x / TOKEN_PIXELS)];
  }
  return pixels;
}

/** Flags of frame `frame` (0-based) from its final mask, its valid matches and the story's events. */
export function frameFlags(frame: number, mask: Uint8Array, validMatches: number, events: readonly StoryEvent[]): FrameFlags {
  const foregroundTokens = mask.reduce((count, value) => count + (value ? 1 : 0), 0);
  const own = events.filter((event) => 'frame' in event && event.frame === frame);
  return {
    emptyMask: foregroundTokens === 0,
    fewMatches: foregroundTokens > 0 && validMatches < FEW_MATCHES_FRACTION * foregroundTokens,
    foregroundFallback:
      events.some((event) => event.kind === 'empty-identity-foreground') || own.some((event) => event.kind === 'empty-foreground' || event.kind === 'no-valid-match'),
    backgroundNotShared: own.some((event) => event.kind === 'background-size-mismatch' || event.kind === 'empty-shared-background'),
  };
}
