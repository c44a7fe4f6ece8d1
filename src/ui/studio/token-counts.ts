// T5 token counts of the editor's texts, asked of the engine in small batches a moment after
// typing stops, and remembered per text (a story's texts repeat: the character is in every prompt).

import { useEffect } from 'react';
import { create } from 'zustand';
import { MAX_COUNTED_TEXTS } from '../../schema/request';
import { MAX_TEXT } from '../../schema/story';
import { countTokens } from '../engine-client';
import { appTokenizers } from '../models/models-store';

/** ms of quiet typing before texts are counted */
const TYPING_PAUSE = 250;
/** texts remembered; older ones are forgotten first */
const REMEMBERED = 500;

interface TokenCountsState {
  counts: Map<string, number>;
  /** set when counting failed (tokenizer files unreachable...) */
  failed?: string;
}

export const useTokenCounts = create<TokenCountsState>()(() => ({ counts: new Map() }));

/** The count of `text` when known. */
export const tokensOf = (text: string): number | undefined => useTokenCounts.getState().counts.get(text);

let waiting = new Set<string>();
let timer: ReturnType<typeof setTimeout> | undefined;

/** Counts `texts` that are not known yet, after a pause in typing. */
export function useCountedTexts(texts: readonly string[]): void {
  const key = texts.join('\u0000');
  useEffect(() => {
    // The engine counts texts of a field's length at most; longer prompts stay uncounted.
    const unknown = key.split('\u0000').filter((text) => text.length <= MAX_TEXT && !useTokenCounts.getState().counts.has(text));
    if (unknown.length === 0) return;
    unknown.forEach((text) => waiting.add(text));
    clearTimeout(timer);
    timer = setTimeout(() => void countWaiting(), TYPING_PAUSE);
  }, [key]);
}

async function countWaiting(): Promise<void> {
  const texts = [...waiting];
  waiting = new Set();
  try {
    const counted: number[] = [];
    for (let start = 0; start < texts.length; start += MAX_COUNTED_TEXTS) {
      // The tokenizer files ship with the app: every model bundle uses them.
      counted.push(...(await countTokens(appTokenizers(), texts.slice(start, start + MAX_COUNTED_TEXTS))));
    }
    const counts = new Map(useTokenCounts.getState().counts);
    texts.forEach((text, i) => counts.set(text, counted[i]));
    for (const oldest of counts.keys()) {
      if (counts.size <= REMEMBERED) break;
      counts.delete(oldest);
    }
    useTokenCounts.setState({ counts, failed: undefined });
  } catch (error) {
    useTokenCounts.setState({ failed: error instanceof Error ? error.message : String(error) });
  }
}
