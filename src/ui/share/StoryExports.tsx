// Export and share controls of a story: PNG per picture (with or without its story inside), ZIP,
// comic pages, contact sheet, and the share link (copied, and shown for copying by hand).

import { useState } from 'react';
import { SHEET_LAYOUTS, type SheetLayout } from '../../export/comic';
import { importProblem } from '../../export/import-error';
import { pictureLabel } from '../../export/picture-metadata';
import { shareLink } from '../../export/share-link';
import type { PictureFacts } from '../history/history-db';
import { comicBlob, contactSheetBlob, downloadBlob, picturePng, storyFileStem, storyZipBlob, type StoryFiles } from './exports';
import { useShareSettings } from './share-settings';
import './share.css';

const LAYOUT_NAMES: Record<SheetLayout, string> = { '2x2': '2 × 2 per page', '3x2': '3 × 2 per page', strip: 'one strip', vertical: 'one column' };

export function PictureDownload({ facts, story }: { facts: PictureFacts; story: StoryFiles }) {
  const includeStory = useShareSettings((state) => state.includeStory);
  const save = async () => downloadBlob(await picturePng(facts, story, includeStory), `${storyFileStem(story.record)}-${facts.name}.png`);
  return (
    <button type="button" className="secondary small" onClick={() => void save()} aria-label={`Download ${pictureLabel(facts.picture)} as PNG`}>
      Download PNG
    </button>
  );
}

export function StoryExports({ story }: { story: StoryFiles }) {
  const { includeStory, comicLayout, setIncludeStory, setComicLayout } = useShareSettings();
  const [busy, setBusy] = useState<string>();
  const [message, setMessage] = useState<string>();
  const stem = storyFileStem(story.record);

  const run = (what: string, make: () => Promise<string>) => async () => {
    setBusy(what);
    setMessage(undefined);
    try {
      setMessage(await make());
    } catch (error) {
      setMessage(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      setBusy(undefined);
    }
  };

  const exportZip = run('The ZIP', async () => {
    downloadBlob(await storyZipBlob(story, includeStory, appAddress()), `${stem}.zip`);
    return `Saved ${stem}.zip.`;
  });
  const exportComic = run('The comic page', async () => {
    const { blob, pages } = await comicBlob(story, comicLayout);
    const name = pages === 1 ? `${stem}-comic.png` : `${stem}-comic.zip`;
    downloadBlob(blob, name);
    return pages === 1 ? `Saved ${name}.` : `Saved ${name} (${pages} pages).`;
  });
  const exportSheet = run('The contact sheet', async () => {
    downloadBlob(await contactSheetBlob(story), `${stem}-contact-sheet.png`);
    return `Saved ${stem}-contact-sheet.png.`;
  });

  return (
    <section className="story-exports" aria-labelledby="exports-heading">
      <h4 id="exports-heading">Export and share</h4>
      <label className="inline-check">
        <input type="checkbox" checked={includeStory} onChange={(event) => setIncludeStory(event.target.checked)} /> Include story in PNG
        <span className="muted"> (the settings and prompts, so the picture can restore its story; off: pixels only)</span>
      </label>
      <div className="export-row">
        <button type="button" disabled={!!busy} onClick={() => void exportZip()}>
          Export ZIP
        </button>
        <label className="inline-select">
          Comic layout
          <select value={comicLayout} onChange={(event) => setComicLayout(event.target.value as SheetLayout)}>
            {SHEET_LAYOUTS.map((layout) => (
              <option key={layout} value={layout}>
                {LAYOUT_NAMES[layout]}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={!!busy} onClick={() => void exportComic()}>
          Export comic page
        </button>
        <button type="button" disabled={!!busy} onClick={() => void exportSheet()}>
          Export contact sheet
        </button>
      </div>
      <ShareLink story={story} />
      <p className="muted" role="status">
        {busy ? `Making ${busy.toLowerCase()}…` : message}
      </p>
    </section>
  );
}

/** The app's own address, without any fragment. */
const appAddress = () => `${location.origin}${location.pathname}`;

function ShareLink({ story }: { story: StoryFiles }) {
  const [link, setLink] = useState<{ url: string; copied: boolean } | { problem: string }>();
  const copy = async () => {
    let url: string;
    try {
      url = shareLink(appAddress(), story.record.shared);
    } catch (error) {
      const { message, action } = importProblem(error);
      return setLink({ problem: `${message} ${action}` });
    }
    const copied = await navigator.clipboard?.writeText(url).then(
      () => true,
      () => false,
    );
    setLink({ url, copied: copied ?? false });
  };
  return (
    <div className="share-link">
      <button type="button" onClick={() => void copy()}>
        Copy share link
      </button>
      {link && 'url' in link && (
        <>
          <label>
            Share link
            <input type="text" readOnly value={link.url} onFocus={(event) => event.target.select()} />
          </label>
          <p className="muted" role="status">
            {link.copied ? 'Copied. ' : 'Copy it from the box above. '}
            The story ({link.url.length.toLocaleString()} characters) is in the part after "#", which browsers never send to a server. It holds the
            settings and prompts, not the pictures: opening it and pressing Generate with the same models makes the same pictures.
          </p>
        </>
      )}
      {link && 'problem' in link && (
        <p className="bad" role="alert">
          {link.problem}
        </p>
      )}
    </div>
  );
}
