// The frame view's mask drawing: the tint picture and the outline between character and background.

import { describe, expect, it } from 'vitest';
import { maskOutline, maskPicture } from '../../src/ui/studio/picture-urls';

/** Unit edges of an outline path, as "x1,y1-x2,y2" strings. */
function edges(path: string): string[] {
  return [...path.matchAll(/M(\d+) (\d+)([hv])1/g)].map(([, x, y, axis]) => `${x},${y}-${axis === 'h' ? Number(x) + 1 : x},${axis === 'v' ? Number(y) + 1 : y}`).sort();
}

describe('the mask overlay', () => {
  it('tints the character tokens only, one pixel per token', () => {
    const { rgba, width, height } = maskPicture(new Uint8Array([0, 1, 1, 0, 0, 0]), 2, 3, [10, 20, 30]);
    expect([width, height]).toEqual([3, 2]);
    expect(Array.from(rgba)).toEqual([0, 0, 0, 0, 10, 20, 30, 255, 10, 20, 30, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('outlines the border between character and background, the picture edge included, and nothing inside', () => {
    // 3x3 grid: an L of three tokens in the top-left corner
    const mask = new Uint8Array([1, 1, 0, 1, 0, 0, 0, 0, 0]);
    expect(edges(maskOutline({ mask, rows: 3, cols: 3 }))).toEqual(
      ['0,0-1,0', '1,0-2,0', '0,0-0,1', '0,1-0,2', '2,0-2,1', '1,1-2,1', '1,1-1,2', '0,2-1,2'].sort(),
    );
    expect(maskOutline({ mask: new Uint8Array(4), rows: 2, cols: 2 })).toBe('');
    // a full 2x2 mask: only the picture's edge, 8 unit edges
    expect(edges(maskOutline({ mask: new Uint8Array([1, 1, 1, 1]), rows: 2, cols: 2 }))).toHaveLength(8);
  });
});
