// How the person wants exports made, kept in this browser.

import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { SheetLayout } from '../../export/comic';

interface ShareSettings {
  /** write the story and an A1111 `parameters` text into exported PNGs */
  includeStory: boolean;
  comicLayout: SheetLayout;
  setIncludeStory(include: boolean): void;
  setComicLayout(layout: SheetLayout): void;
}

export const useShareSettings = create<ShareSettings>()(
  persist(
    (set) => ({
      includeStory: true,
      comicLayout: '2x2',
      setIncludeStory: (includeStory) => set({ includeStory }),
      setComicLayout: (comicLayout) => set({ comicLayout }),
    }),
    { name: 'characonsist.share', version: 1, partialize: ({ includeStory, comicLayout }) => ({ includeStory, comicLayout }) },
  ),
);
