// Driving the app's story imports and reading the editor's state, for the e2e tests of history,
// exports and share links.

import type { Page } from 'playwright-core';
import type { StoryDocument } from '../../src/schema/story';

/** The story in the editor, as the editor keeps it (its saved state; undefined before any edit). */
export const editorStory = (page: Page) => page.evaluate(() => JSON.parse(localStorage.getItem('characonsist.story') ?? 'null')?.state?.story as StoryDocument | undefined);

export const characterField = (page: Page) => page.getByRole('textbox', { name: 'Character', exact: true });

/** The notice that says what was opened, or why not. */
export const importNotice = (page: Page) => page.getByTestId('import-notice');

/** Drops a file on the page as a person dragging it from their desktop would. */
export async function dropFile(page: Page, bytes: Uint8Array, name: string, type = 'image/png'): Promise<void> {
  await page.evaluate(
    ({ bytes, name, type }) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], name, { type }));
      const target = document.querySelector('main') ?? document.body;
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    },
    { bytes: Array.from(bytes), name, type },
  );
}
