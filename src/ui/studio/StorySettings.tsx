// The story's picture settings (size, seed, schedule) and the ones few people change (token
// limit, token merge, batch size, live preview).

import { SCHEDULE_PRESETS, type SchedulePreset, type StoryDocument } from '../../schema/story';
import { useGenerationModels } from '../models/models-store';
import { NumberField } from './fields';
import { randomSeed } from './story-edits';
import { useStory } from './story-store';
import { DEFAULT_SEQUENCE_LENGTH } from './validation';

const SIZE_PRESETS = [
  { width: 1024, height: 1024, name: 'square' },
  { width: 1280, height: 720, name: 'wide' },
  { width: 720, height: 1280, name: 'tall' },
  { width: 1152, height: 896, name: '4:3' },
  { width: 896, height: 1152, name: '3:4' },
  { width: 768, height: 768, name: 'square, faster' },
  { width: 512, height: 512, name: 'square, fastest' },
] as const;

export const SCHEDULE_NAMES: Record<SchedulePreset, { name: string; about: string }> = {
  'schnell-4': { name: 'schnell-4 (experimental)', about: 'FLUX.1-schnell’s 4 steps, with CharaConsist’s step values scaled to them; not yet measured against the paper.' },
  'dev-50': { name: 'dev-50', about: 'FLUX.1-dev’s 50 steps with the paper’s settings. Needs the FLUX.1-dev transformer; about 12 times slower than schnell-4.' },
};

export function StorySettings({ story }: { story: StoryDocument }) {
  const edit = useStory((state) => state.edit);
  const set = (patch: Partial<StoryDocument>) => edit((s) => ({ ...s, ...patch }));
  return (
    <>
      <fieldset className="editor-section">
        <legend>Size, seed and schedule</legend>
        <SizePreset story={story} onPick={(width, height) => set({ width, height })} />
        <div className="field-row">
          <NumberField path="width" label="Width" step={16} min={16} max={2048} value={story.width} onChange={(width) => set({ width })} />
          <NumberField path="height" label="Height" step={16} min={16} max={2048} value={story.height} onChange={(height) => set({ height })} />
          <NumberField path="seed" label="Story seed" value={story.seed} onChange={(seed) => set({ seed })} />
        </div>
        <div className="seed-tools">
          <button type="button" className="secondary small" onClick={() => set({ seed: randomSeed() })}>
            New story seed
          </button>
          <span className="field-hint">Frames with a locked seed keep theirs.</span>
        </div>
        <SchedulePicker schedule={story.schedule} onPick={(schedule) => set({ schedule })} />
      </fieldset>
      <MoreSettings story={story} />
    </>
  );
}

function SizePreset({ story, onPick }: { story: StoryDocument; onPick(width: number, height: number): void }) {
  const current = SIZE_PRESETS.findIndex((preset) => preset.width === story.width && preset.height === story.height);
  return (
    <div className="field">
      <div className="field-label">
        <label htmlFor="size-preset">Size</label>
      </div>
      <select
        id="size-preset"
        value={current}
        onChange={(event) => {
          const preset = SIZE_PRESETS[Number(event.target.value)];
          if (preset) onPick(preset.width, preset.height);
        }}
      >
        {SIZE_PRESETS.map((preset, i) => (
          <option key={i} value={i}>
            {preset.width} × {preset.height} ({preset.name})
          </option>
        ))}
        {current < 0 && <option value={-1}>{Number.isFinite(story.width) && Number.isFinite(story.height) ? `${story.width} × ${story.height}` : 'Custom'} (custom)</option>}
      </select>
    </div>
  );
}

function SchedulePicker({ schedule, onPick }: { schedule: SchedulePreset; onPick(schedule: SchedulePreset): void }) {
  const models = useGenerationModels();
  const modelSchedule = models.ready ? models.bundle.schedule : undefined;
  return (
    <fieldset className="schedule">
      <legend>Schedule</legend>
      {SCHEDULE_PRESETS.map((preset) => (
        <label key={preset} className="check">
          <input
            type="radio"
            name="schedule"
            value={preset}
            checked={preset === schedule}
            aria-labelledby={`schedule-${preset}`}
            aria-describedby={`schedule-${preset}-about`}
            onChange={() => onPick(preset)}
          />
          <span>
            <strong id={`schedule-${preset}`}>{SCHEDULE_NAMES[preset].name}</strong>
            <span id={`schedule-${preset}-about`}>
              {preset === modelSchedule && <span className="badge">your models’</span>}
              <span className="field-hint block">{SCHEDULE_NAMES[preset].about}</span>
            </span>
          </span>
        </label>
      ))}
      {modelSchedule && modelSchedule !== schedule && (
        <p className="notice warn">
          Your models ({models.ready && models.bundle.name}) are made for {modelSchedule}.{' '}
          <button type="button" className="link" onClick={() => onPick(modelSchedule)}>
            Use {modelSchedule}
          </button>
        </p>
      )}
    </fieldset>
  );
}

function MoreSettings({ story }: { story: StoryDocument }) {
  const edit = useStory((state) => state.edit);
  const run = useStory((state) => state.run);
  const setRun = useStory((state) => state.setRun);
  return (
    <details className="editor-section more-settings">
      <summary>More settings</summary>
      <NumberField
        path="maxSequenceLength"
        label="Token limit (T5)"
        optional
        min={1}
        max={512}
        placeholder={`${DEFAULT_SEQUENCE_LENGTH[story.schedule]} (default)`}
        value={story.maxSequenceLength}
        hint="Tokens T5 reads per prompt, the end mark included. Shorter runs faster; every prompt must fit."
        onChange={(maxSequenceLength) => edit((s) => ({ ...s, maxSequenceLength }))}
      />
      <label className="check">
        <input type="checkbox" checked={story.useInterpolate ?? true} onChange={(event) => edit((s) => ({ ...s, useInterpolate: event.target.checked }))} />
        Token merge (the paper’s; blends each frame’s character toward the identity’s in the early steps)
      </label>
      <NumberField
        path="run.framesPerBatch"
        label="Frames per batch"
        optional
        min={1}
        max={32}
        placeholder="as many as fit"
        value={run.framesPerBatch}
        hint="1 shows each frame as soon as it is done; larger batches finish the whole story sooner."
        onChange={(framesPerBatch) => setRun({ framesPerBatch })}
      />
      <NumberField
        path="run.previewEvery"
        label="Live preview every … steps"
        min={0}
        max={50}
        value={run.previewEvery}
        hint="0 turns the preview off."
        onChange={(previewEvery) => setRun({ previewEvery })}
      />
    </details>
  );
}
