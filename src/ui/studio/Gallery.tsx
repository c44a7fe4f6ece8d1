// The identity and the frames side by side: finished, in the making (live preview and mask) or
// waiting; each frame with its flags in words and "Regenerate frame N".

import type { FrameFlags, PictureKey } from '../../engine-api';
import type { StoryDocument } from '../../schema/story';
import { pictureLabel } from '../../export/picture-metadata';
import { pictureName, selectRunning, useJobs, type Finished, type FinishedFrame, type LivePicture } from './jobs-store';
import { LivePreview, PictureStack } from './PictureView';
import { generateBlocker, regenerateFrame } from './studio-actions';
import { useEngineState } from '../store';
import { frameKey, identityKey, pictureSize } from './story-edits';
import { useStory } from './story-store';
import { focusField } from './GenerateBar';
import { useGenerationModels } from '../models/models-store';

export const FLAG_WORDS: Record<keyof FrameFlags, { short: string; long: string }> = {
  emptyMask: { short: 'empty mask', long: 'Empty mask: no part of this frame was taken for the character, so nothing was shared with the identity.' },
  fewMatches: { short: 'few matches', long: 'Few matches: under a quarter of the character’s tokens found their point in the identity; it may look less alike.' },
  foregroundFallback: { short: 'foreground fallback', long: 'Foreground fallback: at some steps the character was drawn as plain FLUX, without the identity.' },
  backgroundNotShared: { short: 'background not shared', long: 'Background not shared: this frame’s size differs from its background’s source, or they had no background in common.' },
};

export const raisedFlags = (flags: FrameFlags) => (Object.keys(FLAG_WORDS) as (keyof FrameFlags)[]).filter((flag) => flags[flag]);

export function Gallery({ selected, onSelect }: { selected: PictureKey | undefined; onSelect(picture: PictureKey): void }) {
  const story = useStory((state) => state.story);
  const keys: PictureKey[] = ['identity', ...story.frames.map((_, frame) => ({ frame }))];
  return (
    <section className="gallery-section" aria-labelledby="gallery-heading">
      <h3 id="gallery-heading">Pictures</h3>
      <ul className="gallery">
        {keys.map((key) => (
          <PictureCard key={pictureName(key)} story={story} picture={key} selected={selected !== undefined && pictureName(selected) === pictureName(key)} onSelect={() => onSelect(key)} />
        ))}
      </ul>
    </section>
  );
}

interface CardProps {
  story: StoryDocument;
  picture: PictureKey;
  selected: boolean;
  onSelect(): void;
}

function PictureCard({ story, picture, selected, onSelect }: CardProps) {
  const name = pictureName(picture);
  const finished = useJobs((state) => (picture === 'identity' ? state.identity : state.frames[picture.frame]));
  const live = useJobs((state) => state.live[name]);
  const waiting = useJobs((state) => isWaiting(state.job, picture));
  const running = useJobs(selectRunning);
  const blocked = generateBlocker(useGenerationModels(), useEngineState((state) => state.gpu)) !== undefined;
  const shot = picture === 'identity' ? story.identity : story.frames[picture.frame];
  const title = pictureLabel(picture);
  const changed = finished && finished.key !== (picture === 'identity' ? identityKey(story) : frameKey(story, picture.frame));
  const flags = finished && picture !== 'identity' ? raisedFlags((finished as FinishedFrame).result.flags) : [];
  return (
    <li className="picture-card" data-selected={selected || undefined} data-state={finished ? 'done' : live ? 'live' : waiting ? 'waiting' : 'empty'}>
      <div className="card-picture" onClick={finished ? onSelect : undefined}>
        <CardPicture title={title} finished={finished} live={live} waiting={waiting} aspect={aspectOf(story, shot)} />
      </div>
      <div className="card-body">
        <p className="card-title">
          <strong>{title}</strong>
          {changed && <span className="badge warn">changed since made</span>}
        </p>
        <p className="card-caption">{shot.action || <span className="muted">no action yet</span>}</p>
        {flags.length > 0 && (
          <ul className="flags" aria-label={`What happened in ${title.toLowerCase()}`}>
            {flags.map((flag) => (
              <li key={flag} className="badge warn" title={FLAG_WORDS[flag].long}>
                {FLAG_WORDS[flag].short}
              </li>
            ))}
          </ul>
        )}
        <div className="card-actions">
          {finished && (
            <button type="button" className="secondary small" aria-pressed={selected} onClick={onSelect}>
              Inspect<span className="visually-hidden"> {title.toLowerCase()}</span>
            </button>
          )}
          {picture !== 'identity' && (
            <button
              type="button"
              className="secondary small"
              disabled={running || blocked}
              onClick={() => {
                const problems = regenerateFrame(picture.frame);
                if (problems.length > 0) focusField(problems[0].path);
              }}
            >
              {finished ? 'Regenerate' : 'Make'} frame {picture.frame + 1}
            </button>
          )}
        </div>
      </div>
    </li>
  );
}

function CardPicture({ title, finished, live, waiting, aspect }: { title: string; finished?: Finished<{ rgba: Uint8Array; width: number; height: number; prompt: string }>; live?: LivePicture; waiting: boolean; aspect: string }) {
  if (live) return <LivePreview live={live} label={`Live preview of ${title.toLowerCase()}`} aspect={aspect} />;
  if (finished) return <PictureStack picture={finished.result} alt={`${title}: ${finished.result.prompt}`} />;
  return (
    <div className={`picture-stack ${waiting ? 'live' : ''}`} style={{ aspectRatio: aspect }}>
      <div className={`picture-placeholder ${waiting ? 'working' : ''}`}>{waiting ? 'waiting…' : 'not made yet'}</div>
    </div>
  );
}

function isWaiting(job: ReturnType<typeof useJobs.getState>['job'], picture: PictureKey): boolean {
  if (!job || (job.status !== 'running' && job.status !== 'cancelling')) return false;
  return picture === 'identity' ? job.pictures.identity && !job.received.identity : job.pictures.frames.includes(picture.frame) && !job.received.frames.includes(picture.frame);
}

function aspectOf(story: StoryDocument, shot: { width?: number; height?: number }): string {
  const { width, height } = pictureSize(story, shot);
  return Number.isFinite(width) && Number.isFinite(height) && width > 0 && height > 0 ? `${width} / ${height}` : '1 / 1';
}
