// Fitting a caption into a box: break it into lines no wider than the box, shrinking the font
// until the lines also fit its height; a caption is never clipped (when even the smallest
// readable size is too tall, the fit says how tall it needs the box to be). Words break at
// spaces; Chinese, Japanese and Korean text breaks between characters, except before closing
// punctuation and after opening brackets (the basic kinsoku rules); a word wider than the box
// breaks between its characters.

/** Width in pixels of `text` drawn at `fontPx` (canvas measureText in the browser). */
export type MeasureText = (text: string, fontPx: number) => number;

export interface CaptionStyle {
  maxFontPx: number;
  /** the smallest size still readable; below it the box grows instead */
  minFontPx: number;
  /** line height as a multiple of the font size */
  lineHeight: number;
}

export interface CaptionFit {
  fontPx: number;
  /** px between baselines */
  lineHeightPx: number;
  lines: string[];
  /** px the lines need */
  height: number;
  /** false when the lines need more height than the box had (the box must grow to `height`) */
  fitsBox: boolean;
}

export const DEFAULT_CAPTION_STYLE: CaptionStyle = { maxFontPx: 32, minFontPx: 11, lineHeight: 1.3 };

export function fitCaption(text: string, box: { width: number; height: number }, measure: MeasureText, style = DEFAULT_CAPTION_STYLE): CaptionFit {
  const fitAt = (fontPx: number): CaptionFit => {
    const lines = breakLines(text, box.width, (part) => measure(part, fontPx));
    const lineHeightPx = Math.ceil(fontPx * style.lineHeight);
    const height = lines.length * lineHeightPx;
    return { fontPx, lineHeightPx, lines, height, fitsBox: height <= box.height };
  };
  const fitsWidth = (fit: CaptionFit) => fit.lines.every((line) => measure(line, fit.fontPx) <= box.width);
  for (let fontPx = style.maxFontPx; fontPx >= style.minFontPx; fontPx--) {
    const fit = fitAt(fontPx);
    if (fit.fitsBox && fitsWidth(fit)) return fit;
  }
  // Too long for the box at any readable size: keep the smallest readable size and let the box
  // grow. Only a piece that cannot break (a character and its punctuation) wider than the box
  // makes the font go smaller still.
  let fit = fitAt(style.minFontPx);
  while (!fitsWidth(fit) && fit.fontPx > 1) fit = fitAt(fit.fontPx - 1);
  return fit;
}

/** Greedy line breaking within `maxWidth`; `\n` always breaks. Lines carry no outer spaces. */
export function breakLines(text: string, maxWidth: number, measure: (text: string) => number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    const flush = () => {
      lines.push(line.trim());
      line = '';
    };
    for (const unit of breakUnits(paragraph)) {
      const joined = line && unit.spaceBefore ? `${line} ${unit.text}` : line + unit.text;
      if (measure(joined) <= maxWidth) {
        line = joined;
        continue;
      }
      if (line) flush();
      for (const piece of measure(unit.text) <= maxWidth ? [unit.text] : clusters(unit.text)) {
        if (line && measure((line + piece).trimEnd()) > maxWidth) flush();
        line += piece;
      }
    }
    flush();
  }
  return lines;
}

interface BreakUnit {
  /** text that is not broken unless it alone is wider than the line */
  text: string;
  /** a space separates it from the unit before (dropped at a line break) */
  spaceBefore: boolean;
}

// Han, kana, Hangul, CJK symbols and full-width forms: a line may break between any two of them.
const CJK = /[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3200-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|[\u{20000}-\u{3ffff}]/u;
/** never at the start of a line */
const NO_BREAK_BEFORE = new Set(Array.from('、。，．・：；？！）」』】〕〉》〙〗ー…‥ゝゞヽヾぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ々〻,.!?;:)]}%'));
/** never at the end of a line */
const NO_BREAK_AFTER = new Set(Array.from('（「『【〔〈《〘〖([{'));

function breakUnits(paragraph: string): BreakUnit[] {
  const units: BreakUnit[] = [];
  let spaceBefore = false;
  let previous = '';
  for (const char of paragraph) {
    if (/\s/.test(char)) {
      spaceBefore = units.length > 0;
      previous = '';
      continue;
    }
    const current = units[units.length - 1];
    if (current && NO_BREAK_BEFORE.has(char)) {
      // Closing punctuation stays with what it closes, even after a space (Unicode rule LB13).
      current.text += spaceBefore ? ` ${char}` : char;
    } else if (!current || spaceBefore || ((CJK.test(char) || CJK.test(previous)) && !NO_BREAK_AFTER.has(previous))) {
      units.push({ text: char, spaceBefore });
    } else {
      current.text += char;
    }
    spaceBefore = false;
    previous = char;
  }
  return units;
}

/**
 * The pieces a unit wider than a line breaks into: single characters, each keeping the opening
 * brackets before it and the spaces and closing punctuation after it.
 */
function clusters(unit: string): string[] {
  const pieces: string[] = [];
  for (const char of unit) {
    const last = pieces[pieces.length - 1];
    const attached = last !== undefined && (/\s/.test(char) || NO_BREAK_BEFORE.has(char) || NO_BREAK_AFTER.has(last[last.length - 1]));
    if (attached) pieces[pieces.length - 1] += char;
    else pieces.push(char);
  }
  return pieces;
}
