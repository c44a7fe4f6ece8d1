// The studio: the story editor with its Generate bar, and the results (run status, gallery, one
// picture up close). Ctrl+Enter generates, Esc cancels; the tab title shows the progress.

import { useEffect, useState } from 'react';
import type { PictureKey } from '../../engine-api';
import { generationModels } from '../models/models-store';
import { FrameView } from './FrameView';
import { Gallery } from './Gallery';
import { generateOrShowProblems, GenerateBar } from './GenerateBar';
import { useJobs } from './jobs-store';
import { progressTitle } from './progress-words';
import { RunStatus } from './RunStatus';
import { StoryEditor } from './StoryEditor';
import { cancel, generateBlocker, isRunning } from './studio-actions';
import { useEngineState } from '../store';

export function Studio() {
  useStudioShortcuts();
  useProgressTitle();
  return (
    <div className="studio">
      <div className="editor-column">
        <StoryEditor />
        <GenerateBar />
      </div>
      <Results />
    </div>
  );
}

function Results() {
  const [selected, setSelected] = useState<PictureKey>();
  // Until the user picks, the close-up shows the first finished frame, else the identity.
  const firstFrame = useJobs((state) => Object.keys(state.frames).map(Number).sort((a, b) => a - b)[0]);
  const hasIdentity = useJobs((state) => state.identity !== undefined);
  const shown = selected ?? (firstFrame !== undefined ? { frame: firstFrame } : hasIdentity ? 'identity' : undefined);
  return (
    <section className="results-column" aria-labelledby="results-heading">
      <h2 id="results-heading">Results</h2>
      <RunStatus />
      <Gallery
        selected={shown}
        onSelect={(picture) => {
          setSelected(picture);
          // The close-up is below the gallery: bring it into view, leaving the focus where it is.
          requestAnimationFrame(() => document.getElementById('frame-view-heading')?.scrollIntoView({ block: 'start' }));
        }}
      />
      {shown && <FrameView picture={shown} />}
    </section>
  );
}

function useStudioShortcuts(): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (isRunning()) return;
        if (!generateBlocker(generationModels(), useEngineState.getState().gpu)) generateOrShowProblems();
        // Without models, the button's description says why: take the focus there.
        else document.querySelector<HTMLElement>('[aria-keyshortcuts="Control+Enter"]')?.focus();
      } else if (event.key === 'Escape' && isRunning()) {
        cancel();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

const BASE_TITLE = 'CharaConsist';

function useProgressTitle(): void {
  const job = useJobs((state) => state.job);
  useEffect(() => {
    document.title = progressTitle(job, BASE_TITLE);
  }, [job]);
}
