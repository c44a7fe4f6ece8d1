// Stories coming in: a share link in the address (on load and when it changes), a PNG or
// story.json dropped anywhere on the page or picked with "Open story file…", and the notice that
// says what was opened and which models it needs, or why nothing was changed. Everything from
// outside is shown as React text, never as HTML.

import { useEffect, useRef, useState } from 'react';
import { useModels } from '../models/models-store';
import { AVAILABILITY_WORDS, modelNeeds } from './models-needed';
import { dismissImportNotice, openShareFragment, openStoryFile, useImportNotice } from './open-story';
import './share.css';

/** Everything that brings stories in, mounted once for the whole page (the notice where it is mounted). */
export function StoryImports() {
  useShareLinks();
  return (
    <>
      <StoryDropZone />
      <ImportNotice />
    </>
  );
}

/** Opens share links: the one the page was opened with, and any pasted into the address later. */
function useShareLinks(): void {
  useEffect(() => {
    const open = () => void openShareFragment(location.hash);
    open();
    window.addEventListener('hashchange', open);
    return () => window.removeEventListener('hashchange', open);
  }, []);
}

/** Files dropped anywhere on the page open their story; a veil says so while one is dragged over it. */
function StoryDropZone() {
  const [dragging, setDragging] = useState(false);
  useEffect(() => {
    const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    const over = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      setDragging(true);
    };
    // relatedTarget is null when the drag leaves the window.
    const leave = (event: DragEvent) => event.relatedTarget === null && setDragging(false);
    const drop = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      setDragging(false);
      const file = event.dataTransfer?.files[0];
      if (file) void openStoryFile(file);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);
  return dragging ? (
    <div className="drop-zone" aria-hidden="true">
      <p>Drop a PNG exported by this app, or a story.json, to open its story</p>
    </div>
  ) : null;
}

/** A button for keyboard and touch users: the same as dropping a file. */
export function OpenStoryFileButton() {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="button" className="secondary" onClick={() => input.current?.click()}>
        Open story file…
      </button>
      <input
        ref={input}
        type="file"
        accept="image/png,.png,application/json,.json"
        className="story-file-input"
        hidden
        aria-label="Story file (PNG or story.json)"
        onChange={(event) => {
          const file = event.target.files?.[0];
          event.target.value = '';
          if (file) void openStoryFile(file);
        }}
      />
    </>
  );
}

function ImportNotice() {
  const notice = useImportNotice((state) => state.notice);
  const models = useModels();
  // A file may be dropped anywhere on a long page: bring the answer into view. (Braces: newer
  // browsers return a promise from scrollIntoView, which React would take for a cleanup.)
  const shown = useRef<HTMLElement>(null);
  useEffect(() => {
    shown.current?.scrollIntoView({ block: 'nearest' });
  }, [notice]);
  if (!notice) return null;
  if (notice.kind === 'problem') {
    return (
      <section ref={shown} className="import-notice error-card" role="alert" data-testid="import-notice" data-kind="problem" data-code={notice.problem.code}>
        <h2>Could not open {notice.source}</h2>
        <p className="error-message">{notice.problem.message}</p>
        <p>Nothing was changed.</p>
        <p className="error-action">{notice.problem.action}</p>
        <button type="button" onClick={dismissImportNotice}>
          Dismiss
        </button>
      </section>
    );
  }
  const { story, models: refs } = notice.shared;
  const needs = modelNeeds(refs, models);
  return (
    <section ref={shown} className="import-notice" role="status" data-testid="import-notice" data-kind="opened">
      <h2>Opened a story from {notice.source}</h2>
      <p>
        The editor now holds it: {story.frames.length} {story.frames.length === 1 ? 'frame' : 'frames'}, {story.width}×{story.height}, seed {story.seed}, schedule{' '}
        {story.schedule}. Press Generate to make its pictures (Undo in the editor brings your previous story back).
      </p>
      {needs.length > 0 ? (
        <>
          <p>It was made with these models; the same models give the same pictures:</p>
          <ul className="model-needs" aria-label="Models this story needs">
            {needs.map(({ ref, label, availability }) => (
              <li key={ref.component} data-availability={availability}>
                <strong>{ref.component}</strong>: {label}
                {ref.sha256 && <span className="muted"> (sha256 {ref.sha256.slice(0, 12)}…)</span>} — {AVAILABILITY_WORDS[availability]}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>It does not say which models made it; any FLUX.1 bundle can generate it, but only the original models give the same pictures.</p>
      )}
      <button type="button" onClick={dismissImportNotice}>
        Dismiss
      </button>
    </section>
  );
}
