// The caption fitter with a deterministic fake measurer (CJK characters are one em wide, other
// characters 0.6 em, spaces 0.3 em): lines stay within the box, nothing is ever lost, the font
// shrinks only as far as needed, and CJK text breaks between characters but not before "。".

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { breakLines, fitCaption, type CaptionStyle } from '../../src/export/captions';

const CJK_CHAR = /[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]/u;
const charWidth = (char: string) => (char === ' ' ? 0.3 : CJK_CHAR.test(char) ? 1 : 0.6);
const measure = (text: string, fontPx: number) => Array.from(text).reduce((sum, char) => sum + charWidth(char) * fontPx, 0);
const STYLE: CaptionStyle = { maxFontPx: 20, minFontPx: 8, lineHeight: 1.25 };

/** The text without any whitespace: what a caption must keep, whatever the breaks. */
const ink = (text: string) => text.replace(/\s+/g, '');

const captionText = fc
  .array(fc.oneof(fc.constantFrom('春の海', 'ひねもすのたり', '。', '「本」', 'supercalifragilistic', 'a', 'knight', '骑士在雨中', ' '), fc.string({ maxLength: 8 })), { maxLength: 30 })
  .map((parts) => parts.join(' ').replace(/\n/g, ' '));

describe('breakLines', () => {
  it('breaks at spaces, keeping words whole', () => {
    expect(breakLines('the red knight rides home', 5 * 12, (t) => measure(t, 12))).toEqual(['the red', 'knight', 'rides', 'home']);
  });

  it('breaks a word wider than the line between its characters', () => {
    const lines = breakLines('xx supercalifragilistic', 5 * 6, (t) => measure(t, 10));
    expect(lines).toEqual(['xx', 'super', 'calif', 'ragil', 'istic']);
  });

  it('breaks CJK text between characters', () => {
    expect(breakLines('春の海ひねもすのたりのたりかな', 5 * 10, (t) => measure(t, 10))).toEqual(['春の海ひね', 'もすのたり', 'のたりかな']);
  });

  it('never starts a line with closing punctuation or ends one with an opening bracket', () => {
    // Five characters fit; "。" would start the second line and "「" end the first.
    expect(breakLines('あいうえお。かき', 5 * 10, (t) => measure(t, 10))).toEqual(['あいうえ', 'お。かき']);
    expect(breakLines('あいうえ「本」', 5 * 10, (t) => measure(t, 10))).toEqual(['あいうえ', '「本」']);
    // Not even after a space (Unicode line breaking, rule LB13), nor inside a word broken for width.
    expect(breakLines('あいうえお 。', 5 * 10, (t) => measure(t, 10))).toEqual(['あいうえ', 'お 。']);
    expect(breakLines('abcdefgh 」', 5 * 10, (t) => measure(t, 10))).toEqual(['abcdefg', 'h 」']);
    expect(breakLines('あいうえお。', 5 * 10, (t) => measure(t, 10))).toEqual(['あいうえ', 'お。']);
  });

  it('mixes CJK and Latin words', () => {
    expect(breakLines('騎士 rides 馬', 100, (t) => measure(t, 10))).toEqual(['騎士 rides 馬']);
    expect(breakLines('騎士rides馬', 3.5 * 10, (t) => measure(t, 10))).toEqual(['騎士', 'rides', '馬']);
  });

  it('keeps hard line breaks', () => {
    expect(breakLines('one\ntwo', 1000, (t) => measure(t, 10))).toEqual(['one', 'two']);
  });
});

describe('fitCaption', () => {
  it('uses the largest font when the caption fits', () => {
    const fit = fitCaption('A short one.', { width: 400, height: 40 }, measure, STYLE);
    expect(fit).toMatchObject({ fontPx: 20, lines: ['A short one.'], fitsBox: true, lineHeightPx: 25, height: 25 });
  });

  it('shrinks to the largest font at which the text fits', () => {
    // 40 characters of 0.6 em; box 120 px wide, 2 lines of 1.25 em tall.
    const text = 'aaaa bbbb cccc dddd eeee ffff gggg hhhh';
    const box = { width: 120, height: 32 };
    const fit = fitCaption(text, box, measure, STYLE);
    expect(fit.fitsBox).toBe(true);
    expect(fit.height).toBeLessThanOrEqual(box.height);
    const linesAt = (fontPx: number) => breakLines(text, box.width, (t) => measure(t, fontPx)).length * Math.ceil(fontPx * STYLE.lineHeight);
    expect(linesAt(fit.fontPx + 1)).toBeGreaterThan(box.height);
    expect(fit.fontPx).toBe(11);
    expect(fit.lines).toEqual(['aaaa bbbb cccc dddd', 'eeee ffff gggg hhhh']);
  });

  it('never clips: a caption too long for the box keeps every character and says how tall it needs to be', () => {
    const text = '春の海ひねもすのたりのたりかな '.repeat(20);
    const box = { width: 100, height: 30 };
    const fit = fitCaption(text, box, measure, STYLE);
    expect(fit.fitsBox).toBe(false);
    expect(fit.fontPx).toBe(STYLE.minFontPx);
    expect(fit.height).toBe(fit.lines.length * fit.lineHeightPx);
    expect(fit.height).toBeGreaterThan(box.height);
    expect(ink(fit.lines.join(''))).toBe(ink(text));
  });

  it('goes below the minimum size only for a single character wider than the box', () => {
    const fit = fitCaption('騎', { width: 5, height: 100 }, measure, STYLE);
    expect(fit.fontPx).toBe(5);
    expect(measure(fit.lines[0], fit.fontPx)).toBeLessThanOrEqual(5);
  });

  it('for any text and box: lines within the width, all text kept, height honest', () => {
    fc.assert(
      fc.property(captionText, fc.integer({ min: 20, max: 600 }), fc.integer({ min: 10, max: 300 }), (text, width, height) => {
        const fit = fitCaption(text, { width, height }, measure, STYLE);
        for (const line of fit.lines) {
          expect(measure(line, fit.fontPx)).toBeLessThanOrEqual(width);
          expect(line).toBe(line.trim());
        }
        expect(ink(fit.lines.join(''))).toBe(ink(text));
        expect(fit.height).toBe(fit.lines.length * fit.lineHeightPx);
        expect(fit.fitsBox).toBe(fit.height <= height);
        expect(fit.fontPx).toBeLessThanOrEqual(STYLE.maxFontPx);
        if (fit.fontPx < STYLE.minFontPx) {
          const larger = fit.fontPx + 1;
          expect(breakLines(text, width, (t) => measure(t, larger)).some((line) => measure(line, larger) > width)).toBe(true);
        }
        for (const line of fit.lines.slice(1)) expect('、。，．！？）」』').not.toContain(line[0] ?? 'x');
      }),
      { numRuns: 300 },
    );
  });
});
