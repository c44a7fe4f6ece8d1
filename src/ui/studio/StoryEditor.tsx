// The story editor: the character, the mode, the identity picture, the frames and the settings.
// It renders the story store; problems appear beside their fields once Generate was pressed.

import { useMemo } from 'react';
import { STORY_MODES, type StoryDocument, type StoryMode } from '../../schema/story';
import { useGenerationModels } from '../models/models-store';
import { EXAMPLES } from './examples';
import { FramesEditor } from './FramesEditor';
import { NumberField, ProblemsContext, PromptFitLine, TextField } from './fields';
import { StorySettings } from './StorySettings';
import { useStory } from './story-store';
import { pictureSize, runnableStory } from './story-edits';
import { useCountedTexts } from './token-counts';
import { useEditorProblems } from './use-problems';
import { problemsByPath, promptText, sequenceLength } from './validation';

export const MODE_NAMES: Record<StoryMode, { name: string; about: string }> = {
  maintain: { name: 'Same background', about: 'Every frame at the identity’s place, sharing its background.' },
  switch: { name: 'Background per frame', about: 'Each frame at its own place; only the character is kept.' },
  scenes: { name: 'Scenes', about: 'A scene’s first frame sets the background (and size) for the frames after it.' },
};

export function StoryEditor() {
  const story = useStory((state) => state.story);
  const models = useGenerationModels();
  const model = models.ready ? models.bundle.schedule : undefined;
  const problemList = useEditorProblems();
  const problems = useMemo(() => problemsByPath(problemList), [problemList]);
  useCountedTexts(storyTexts(story));
  return (
    <ProblemsContext.Provider value={problems}>
      <form className="story-editor" aria-labelledby="story-heading" onSubmit={(event) => event.preventDefault()} noValidate>
        <div className="editor-head">
          <h2 id="story-heading">Story</h2>
          <Examples />
        </div>
        <CharacterFields story={story} />
        <ModeChooser mode={story.mode} />
        <IdentityFields story={story} limit={sequenceLength(story, model)} />
        <FramesEditor story={story} limit={sequenceLength(story, model)} />
        <StorySettings story={story} />
      </form>
    </ProblemsContext.Provider>
  );
}

/** Every text whose T5 tokens the editor shows: the fields and each shot's whole prompt. */
function storyTexts(story: StoryDocument): string[] {
  const runnable = runnableStory(story);
  const shots = [runnable.identity, ...runnable.frames];
  return [story.character, ...shots.flatMap((shot) => [shot.environment, shot.action, promptText(story.character, shot)])];
}

function Examples() {
  const replace = useStory((state) => state.replace);
  // Examples take the stored models' schedule: the one their transformer is made for.
  const models = useGenerationModels();
  const schedule = models.ready ? models.bundle.schedule : undefined;
  const replaced = useStory((state) => state.replaced);
  const undo = useStory((state) => state.undoReplace);
  return (
    <div className="examples">
      <span className="examples-label" id="examples-label">
        Examples:
      </span>
      <ul aria-labelledby="examples-label">
        {EXAMPLES.map((example) => (
          <li key={example.title}>
            <button type="button" className="chip" title={example.about} onClick={() => replace({ ...example.story, schedule: schedule ?? example.story.schedule }, `the example “${example.title}”`)}>
              {example.title}
            </button>
          </li>
        ))}
      </ul>
      {replaced && (
        <p className="notice" role="status">
          Opened {replaced.by} in the editor.{' '}
          <button type="button" className="link" onClick={undo}>
            Undo
          </button>
        </p>
      )}
    </div>
  );
}

function CharacterFields({ story }: { story: StoryDocument }) {
  const edit = useStory((state) => state.edit);
  return (
    <section className="editor-section first" aria-labelledby="character-heading">
      <h3 id="character-heading" className="visually-hidden">
        The character
      </h3>
      <p className="callout">
        <strong>One character per story.</strong> Describe them once; every picture shows this same person, their clothes and what they
        carry. The identity picture is drawn from this description: a photo cannot be used as the identity.
      </p>
      <TextField
        path="character"
        label="Character"
        multiline
        value={story.character}
        placeholder="an old sailor with a grey beard and a yellow coat"
        onChange={(character) => edit((s) => ({ ...s, character }))}
      />
    </section>
  );
}

function ModeChooser({ mode }: { mode: StoryMode }) {
  const edit = useStory((state) => state.edit);
  return (
    <fieldset className="editor-section modes">
      <legend>Backgrounds</legend>
      <div className="mode-options">
        {STORY_MODES.map((option) => (
          <label key={option} className="mode-option" data-checked={option === mode || undefined}>
            <input
              type="radio"
              name="mode"
              value={option}
              checked={option === mode}
              aria-labelledby={`mode-${option}`}
              aria-describedby={`mode-${option}-about`}
              onChange={() => edit((s) => ({ ...s, mode: option }))}
            />
            <span className="mode-name" id={`mode-${option}`}>
              {MODE_NAMES[option].name}
            </span>
            <span className="mode-about" id={`mode-${option}-about`}>
              {MODE_NAMES[option].about}
            </span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function IdentityFields({ story, limit }: { story: StoryDocument; limit: number }) {
  const edit = useStory((state) => state.edit);
  const setIdentity = (patch: Partial<StoryDocument['identity']>) => edit((s) => ({ ...s, identity: { ...s.identity, ...patch } }));
  const size = pictureSize(story, {});
  const identitySize = pictureSize(story, story.identity);
  const ofIdentity = <span className="visually-hidden"> of the identity</span>;
  return (
    <fieldset className="editor-section shot identity-shot">
      <legend>Identity picture</legend>
      <p className="field-hint">The reference every frame copies the character from. It is made first.</p>
      <TextField
        path="identity.environment"
        label={
          <>
            Place{ofIdentity}
            {story.mode === 'maintain' && ' (every frame’s)'}
          </>
        }
        value={story.identity.environment}
        placeholder="In a quiet harbour town at dawn,"
        onChange={(environment) => setIdentity({ environment })}
      />
      <TextField path="identity.action" label={<>Action{ofIdentity}</>} value={story.identity.action} placeholder="is standing, looking at the viewer." onChange={(action) => setIdentity({ action })} />
      <details className="frame-more">
        <summary>
          Own size <span className="muted">({identitySize.width} × {identitySize.height})</span>
        </summary>
        <div className="field-row">
          <NumberField path="identity.width" label={<>Width{ofIdentity}</>} optional step={16} min={16} placeholder={`${size.width}`} value={story.identity.width} onChange={(width) => setIdentity({ width })} />
          <NumberField path="identity.height" label={<>Height{ofIdentity}</>} optional step={16} min={16} placeholder={`${size.height}`} value={story.identity.height} onChange={(height) => setIdentity({ height })} />
        </div>
        <p className="field-hint">Empty fields take the story’s size. Frames share the identity’s background only at the same size.</p>
      </details>
      <PromptFitLine prompt={promptText(story.character, story.identity)} limit={limit} />
    </fieldset>
  );
}
