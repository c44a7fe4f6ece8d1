// The story being written (zustand), saved in this browser as it is typed, so a reload or a
// crash loses nothing. Stories saved by earlier versions of the app are migrated.

import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { StoryDocument } from '../../schema/story';
import { EXAMPLES } from './examples';
import { DEFAULT_RUN, type RunOptions } from './run-options';
import { migrateStoryState, STORY_VERSION } from './story-migration';

export interface StoryEditorState {
  story: StoryDocument;
  run: RunOptions;
  /** the story an example or a restore replaced, so one click brings it back; `by`: where the new one came from ("a share link") */
  replaced?: { story: StoryDocument; by: string };
  /** problems are shown beside the fields once Generate was pressed */
  showProblems: boolean;
  edit(change: (story: StoryDocument) => StoryDocument): void;
  /**
   * Puts a whole story in the editor (an example, a story from the history or a share link); Undo
   * brings the old one back. `by` says where it came from: "Opened <by> in the editor".
   */
  replace(story: StoryDocument, by: string): void;
  undoReplace(): void;
  setRun(patch: Partial<RunOptions>): void;
  setShowProblems(show: boolean): void;
}

export const STORY_STORAGE_KEY = 'characonsist.story';

export const useStory = create<StoryEditorState>()(
  persist(
    (set) => ({
      story: EXAMPLES[0].story,
      run: DEFAULT_RUN,
      showProblems: false,
      edit: (change) => set(({ story }) => ({ story: change(story), replaced: undefined })),
      replace: (story, by) => set((state) => ({ story, replaced: { story: state.story, by }, showProblems: false })),
      undoReplace: () => set(({ replaced, story }) => ({ story: replaced?.story ?? story, replaced: undefined })),
      setRun: (patch) => set(({ run }) => ({ run: { ...run, ...patch } })),
      setShowProblems: (showProblems) => set({ showProblems }),
    }),
    {
      name: STORY_STORAGE_KEY,
      version: STORY_VERSION,
      partialize: ({ story, run }) => ({ story, run }),
      migrate: (persisted, version) => migrateStoryState(persisted, version),
    },
  ),
);
