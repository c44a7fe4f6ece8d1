// The history: every story made in this browser, newest first, with a thumbnail; open one to see
// its pictures, put its settings back into the editor, export or share it, or delete it.

import { useEffect } from 'react';
import type { StoryRecord, StoryStatus } from './history-db';
import { gigabytes } from '../models/format';
import { useBlobUrl } from './blob-url';
import { openStory, startHistory, useHistory, type StorageUse } from './history-store';
import { OpenStoryFileButton } from '../share/StoryImport';
import { StoryViewer } from './StoryViewer';
import './history.css';

export const STATUS_WORDS: Record<StoryStatus, string> = {
  running: 'being made',
  done: 'finished',
  cancelled: 'cancelled',
  failed: 'stopped by an error',
  interrupted: 'cut short (the page was closed or reloaded)',
};

export function HistoryPanel() {
  const { status, problem, stories, openId, storage } = useHistory();
  useEffect(() => void startHistory(), []);
  const open = stories.find((story) => story.id === openId);
  return (
    <section className="panel history-panel" aria-labelledby="history-heading" data-testid="history">
      <div className="history-head">
        <h2 id="history-heading">History</h2>
        <OpenStoryFileButton />
      </div>
      {problem && (
        <p className="history-problem" role="alert">
          {problem}
        </p>
      )}
      {status === 'loading' && <p className="muted">Opening the history…</p>}
      {status === 'ready' && (
        <>
          <p className="muted" data-testid="history-storage">
            {storageWords(stories.length, storage)}
          </p>
          {stories.length === 0 ? (
            <p className="muted">Stories you generate are kept here, picture by picture, as they are made.</p>
          ) : (
            <ul className="history-gallery" aria-label="Stories kept in this browser">
              {stories.map((story) => (
                <li key={story.id}>
                  <StoryCard story={story} open={story.id === openId} />
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {open && <StoryViewer story={open} />}
    </section>
  );
}

function StoryCard({ story, open }: { story: StoryRecord; open: boolean }) {
  const thumbnail = useBlobUrl(story.thumbnail);
  const title = storyTitle(story);
  return (
    <button type="button" className="history-card" aria-pressed={open} aria-label={`${title}, ${madeWhen(story)}`} onClick={() => openStory(open ? undefined : story.id)}>
      {thumbnail ? <img src={thumbnail} alt="" /> : <span className="history-no-picture" aria-hidden="true" />}
      <span className="history-card-title">{title}</span>
      <span className="history-card-meta">
        {madeWhen(story)} · {pictureCount(story)} · {STATUS_WORDS[story.status]}
      </span>
    </button>
  );
}

/** The character, shortened: what tells stories apart at a glance. */
export function storyTitle(story: StoryRecord): string {
  const character = story.shared.story.character.trim();
  return character.length > 60 ? `${character.slice(0, 59)}…` : character;
}

export const madeWhen = (story: StoryRecord) => new Date(story.createdAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const pictureCount = (story: StoryRecord) => `${story.pictures.length} ${story.pictures.length === 1 ? 'picture' : 'pictures'}`;

function storageWords(count: number, storage: StorageUse | undefined): string {
  const kept = `${count} ${count === 1 ? 'story' : 'stories'}, ${gigabytes(storage?.history ?? 0)} of pictures.`;
  if (!storage?.site) return kept;
  return `${kept} This site uses ${gigabytes(storage.site.usage)} of the ${gigabytes(storage.site.quota)} the browser allows it (models included).`;
}

