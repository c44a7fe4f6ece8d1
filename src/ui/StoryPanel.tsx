import { useStory } from './store';

/** The story: environment, character and actions, kept in local storage as it is typed. */
export function StoryPanel() {
  const { story, setEnvironment, setCharacter, setAction, addAction, removeAction } = useStory();
  return (
    <section className="panel story-panel" data-testid="story-panel">
      <h2>Story</h2>
      <label>
        Environment
        <input value={story.environment} onChange={(e) => setEnvironment(e.target.value)} placeholder="In a deserted alleyway at night," />
      </label>
      <label>
        Character
        <textarea value={story.character} rows={3} onChange={(e) => setCharacter(e.target.value)} placeholder="an old sailor with a grey beard and a yellow coat" />
      </label>
      <fieldset>
        <legend>Actions, one frame each</legend>
        <ol>
          {story.actions.map((action, index) => (
            <li key={index}>
              <input value={action} onChange={(e) => setAction(index, e.target.value)} placeholder="is walking the dog." aria-label={`Action ${index + 1}`} />
              <button type="button" className="icon" onClick={() => removeAction(index)} aria-label={`Remove action ${index + 1}`}>
                ×
              </button>
            </li>
          ))}
        </ol>
        <button type="button" onClick={addAction}>
          Add action
        </button>
      </fieldset>
      <p className="muted">Your story is saved in this browser as you type.</p>
    </section>
  );
}
