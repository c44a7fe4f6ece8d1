// One story of the history: its pictures (and masks, on demand), what happened to each frame,
// and what can be done with it: restore its settings, export, share, delete.

import { useEffect, useState } from 'react';
import { flagNotes } from '../../export/comic';
import { pictureLabel } from '../../export/picture-metadata';
import { PictureDownload, StoryExports } from '../share/StoryExports';
import type { StoryFiles } from '../share/exports';
import { gigabytes } from '../models/format';
import { useBlobUrl } from './blob-url';
import type { PictureFacts, PictureRecord, StoryRecord } from './history-db';
import { openStory, removeStory, restoreStory, storyPictures } from './history-store';
import { madeWhen, STATUS_WORDS, storyTitle } from './HistoryPanel';

export function StoryViewer({ story }: { story: StoryRecord }) {
  const files = useStoryFiles(story);
  const [showMasks, setShowMasks] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [restored, setRestored] = useState(false);
  const ready = files && story.pictures.every((facts) => files.files.has(facts.name)) ? files : undefined;
  return (
    <article className="story-viewer" aria-labelledby="story-viewer-heading" data-testid="story-viewer" data-status={story.status}>
      <header className="story-viewer-head">
        <h3 id="story-viewer-heading">{storyTitle(story)}</h3>
        <p className="muted">
          {madeWhen(story)} · {story.shared.story.mode} · seed {story.shared.story.seed} · {story.shared.story.schedule} · {STATUS_WORDS[story.status]} · {gigabytes(story.bytes)}
        </p>
        {story.error && <p className="bad">{story.error.message}</p>}
        <div className="story-viewer-actions">
          <button
            type="button"
            onClick={() =>
              void restoreStory(story.id).then(() => {
                setRestored(true);
              })
            }
          >
            Restore into editor
          </button>
          {confirmDelete ? (
            <span role="group" aria-label="Confirm deletion">
              <button type="button" className="danger" onClick={() => void removeStory(story.id)}>
                Delete for good
              </button>
              <button type="button" className="link" onClick={() => setConfirmDelete(false)}>
                Keep it
              </button>
            </span>
          ) : (
            <button type="button" className="secondary" onClick={() => setConfirmDelete(true)}>
              Delete story
            </button>
          )}
          <button type="button" className="link" onClick={() => openStory(undefined)}>
            Close
          </button>
        </div>
        {restored && (
          <p role="status" className="notice">
            Its settings are in the editor now (Undo there brings your previous story back).
          </p>
        )}
      </header>
      <label className="inline-check">
        <input type="checkbox" checked={showMasks} onChange={(event) => setShowMasks(event.target.checked)} /> Show character masks
      </label>
      <ul className="story-pictures" aria-label="Pictures">
        {story.pictures.map((facts) => (
          <li key={facts.name}>
            <StoredPicture facts={facts} file={files?.files.get(facts.name)} showMask={showMasks} story={ready} />
          </li>
        ))}
      </ul>
      {ready ? <StoryExports story={ready} /> : <p className="muted">Loading the pictures…</p>}
    </article>
  );
}

/** The story's picture files, loaded again whenever the story changes (a running story grows). */
function useStoryFiles(story: StoryRecord): StoryFiles | undefined {
  const [files, setFiles] = useState<StoryFiles>();
  useEffect(() => {
    let current = true;
    void storyPictures(story.id).then((loaded) => current && setFiles({ record: story, files: loaded }));
    return () => {
      current = false;
    };
  }, [story]);
  return files?.record.id === story.id ? files : undefined;
}

function StoredPicture({ facts, file, showMask, story }: { facts: PictureFacts; file?: PictureRecord; showMask: boolean; story?: StoryFiles }) {
  const picture = useBlobUrl(file?.png);
  const mask = useBlobUrl(showMask ? file?.maskPng : undefined);
  const label = pictureLabel(facts.picture);
  return (
    <figure className="stored-picture">
      {picture && <img src={picture} alt={`${label}: ${facts.prompt}`} width={facts.width} height={facts.height} />}
      {mask && <img className="stored-mask" src={mask} alt={`${label}: character mask`} width={facts.width} height={facts.height} />}
      <figcaption>
        <strong>{label}</strong> · seed {facts.seed} · {facts.width}×{facts.height}
        {flagNotes(facts.flags).map((note) => (
          <span key={note} className="badge warn">
            {note}
          </span>
        ))}
      </figcaption>
      {story && <PictureDownload facts={facts} story={story} />}
    </figure>
  );
}

