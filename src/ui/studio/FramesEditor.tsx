// The frames of the story: one action each, with the place (unless every frame shares the
// identity's), a scene mark (scenes mode), an own size and seed, lock and re-roll.

import { frameSeed, MAX_FRAMES, type FrameShot, type StoryDocument } from '../../schema/story';
import { NumberField, PromptFitLine, TextField } from './fields';
import { selectRunning, useJobs } from './jobs-store';
import { moveFrameTo, removeFrameAt } from './studio-actions';
import { addFrame, frameKey, isSeedLocked, lockSeed, opensScene, pictureSize, randomSeed, runnableStory, sceneSource, setFrame, unlockSeed } from './story-edits';
import { useStory } from './story-store';
import { promptText } from './validation';

export function FramesEditor({ story, limit }: { story: StoryDocument; limit: number }) {
  const edit = useStory((state) => state.edit);
  const running = useJobs(selectRunning);
  return (
    <section className="editor-section frames" aria-labelledby="frames-heading">
      <h3 id="frames-heading">Frames</h3>
      <p className="field-hint">One action each. The character stays the same; say only what they do{story.mode === 'maintain' ? '' : ' and where'}.</p>
      <ol className="frame-list">
        {story.frames.map((frame, index) => (
          <FrameEditor key={index} story={story} index={index} frame={frame} limit={limit} structureLocked={running} />
        ))}
      </ol>
      <button type="button" className="secondary" disabled={story.frames.length >= MAX_FRAMES} onClick={() => edit(addFrame)}>
        Add frame
      </button>
      {story.frames.length >= MAX_FRAMES && <p className="field-hint">A story has at most {MAX_FRAMES} frames.</p>}
    </section>
  );
}

interface FrameProps {
  story: StoryDocument;
  index: number;
  frame: FrameShot;
  limit: number;
  /** while a story runs, frames cannot be moved or removed (its pictures would land on the wrong frames) */
  structureLocked: boolean;
}

function FrameEditor({ story, index, frame, limit, structureLocked }: FrameProps) {
  const edit = useStory((state) => state.edit);
  const made = useJobs((state) => state.frames[index]);
  const number = index + 1;
  const change = (patch: Partial<FrameShot>) => edit((s) => setFrame(s, index, patch));
  const of = <span className="visually-hidden"> of frame {number}</span>;
  const size = pictureSize(story, {});
  const changed = made !== undefined && made.key !== frameKey(story, index);
  const lockedHint = structureLocked ? 'Frames cannot be moved or removed while the story is being made.' : undefined;
  return (
    <li className="frame-editor">
      <div className="frame-editor-head">
        <h4 id={`frame-${index}-heading`}>Frame {number}</h4>
        {changed && <span className="badge warn">changed since it was made</span>}
        <div className="frame-tools" role="group" aria-label={`Frame ${number}`}>
          <button type="button" className="icon" aria-label={`Move frame ${number} up`} title={lockedHint ?? 'Move up'} disabled={index === 0 || structureLocked} onClick={() => moveFrameTo(index, index - 1)}>
            ↑
          </button>
          <button type="button" className="icon" aria-label={`Move frame ${number} down`} title={lockedHint ?? 'Move down'} disabled={index === story.frames.length - 1 || structureLocked} onClick={() => moveFrameTo(index, index + 1)}>
            ↓
          </button>
          <button type="button" className="icon" aria-label={`Remove frame ${number}`} title={lockedHint ?? 'Remove'} disabled={story.frames.length === 1 || structureLocked} onClick={() => removeFrameAt(index)}>
            ×
          </button>
        </div>
      </div>
      {story.mode === 'maintain' ? (
        <p className="field-hint">At the identity’s place.</p>
      ) : (
        <TextField path={`frames[${index}].environment`} label={<>Place{of}</>} value={frame.environment} placeholder="On a mountain road at noon," onChange={(environment) => change({ environment })} />
      )}
      {story.mode === 'scenes' && <SceneMark story={story} index={index} onChange={(newScene) => change({ newScene })} />}
      <TextField path={`frames[${index}].action`} label={<>Action{of}</>} value={frame.action} placeholder="is riding a bicycle." onChange={(action) => change({ action })} />
      <SeedTools story={story} index={index} frame={frame} />
      <details className="frame-more">
        <summary>
          Own size or seed<span className="visually-hidden"> of frame {number}</span>
        </summary>
        <div className="field-row">
          <NumberField path={`frames[${index}].width`} label={<>Width{of}</>} optional step={16} min={16} placeholder={`${size.width}`} value={frame.width} onChange={(width) => change({ width })} />
          <NumberField path={`frames[${index}].height`} label={<>Height{of}</>} optional step={16} min={16} placeholder={`${size.height}`} value={frame.height} onChange={(height) => change({ height })} />
          <NumberField path={`frames[${index}].seed`} label={<>Seed{of}</>} optional placeholder={`${story.seed} (story’s)`} value={frame.seed} onChange={(seed) => change({ seed })} />
        </div>
        <p className="field-hint">Empty fields take the story’s value.{story.mode !== 'switch' && ' Backgrounds are shared only between pictures of the same size.'}</p>
      </details>
      <PromptFitLine prompt={promptText(story.character, runnableStory(story).frames[index])} limit={limit} />
    </li>
  );
}

function SeedTools({ story, index, frame }: { story: StoryDocument; index: number; frame: FrameShot }) {
  const edit = useStory((state) => state.edit);
  const locked = isSeedLocked(frame);
  const number = index + 1;
  const { width, height } = pictureSize(story, frame);
  return (
    <div className="seed-tools">
      <span className="frame-meta">
        {width} × {height} · seed {frameSeed(story, frame)} {locked ? '(locked)' : '(story’s)'}
      </span>
      <button
        type="button"
        className="secondary small"
        aria-pressed={locked}
        aria-label={`Lock seed of frame ${number}`}
        title={locked ? 'Locked: keeps this seed when the story seed changes. Press to follow the story seed again.' : 'Keep this seed when the story seed changes'}
        onClick={() => edit((s) => (locked ? unlockSeed(s, index) : lockSeed(s, index)))}
      >
        <span aria-hidden="true">{locked ? '🔒 ' : ''}</span>Lock seed
      </button>
      <button type="button" className="secondary small" aria-label={`New seed for frame ${number}`} onClick={() => edit((s) => setFrame(s, index, { seed: randomSeed() }))}>
        New seed
      </button>
    </div>
  );
}

function SceneMark({ story, index, onChange }: { story: StoryDocument; index: number; onChange(newScene: boolean | undefined): void }) {
  const opens = opensScene(story, index);
  const explicit = story.frames[index].newScene !== undefined;
  const source = sceneSource(story, index);
  const why = opens
    ? explicit ? 'Opens a new scene: its background is shared by the frames after it.' : 'Opens a new scene (automatically: its place differs from the shot before).'
    : `Continues the scene of ${source === undefined ? 'the identity' : `frame ${source + 1}`} and shares its background.`;
  return (
    <div className="scene-mark">
      <label className="check">
        <input type="checkbox" checked={opens} onChange={(event) => onChange(event.target.checked)} />
        New scene<span className="visually-hidden"> at frame {index + 1}</span>
      </label>
      <span className="field-hint">
        {why}{' '}
        {explicit && (
          <button type="button" className="link" onClick={() => onChange(undefined)}>
            Decide by the place
          </button>
        )}
      </span>
    </div>
  );
}
