// The editor's action bar: Generate (or why it cannot run yet), Cancel while a story is made,
// a one-line progress, and the problems to fix, each a link to its field.

import { useEffect, useState } from 'react';
import { useGenerationModels } from '../models/models-store';
import { fieldId } from './fields';
import { jobEta, useJobs } from './jobs-store';
import { formatDuration } from './eta';
import { progressInWords } from './progress-words';
import { cancel, generate, generateBlocker } from './studio-actions';
import { useEngineState } from '../store';
import { useEditorProblems } from './use-problems';
import { fieldName } from './validation';

/** Starts a story and takes the focus to the first problem when it cannot start. */
export function generateOrShowProblems(): void {
  const problems = generate();
  if (problems.length > 0) focusField(problems[0].path);
}

export function focusField(path: string): void {
  const field = document.getElementById(fieldId(path));
  if (!field) return;
  field.closest('details')?.setAttribute('open', '');
  // Centred: the sticky bars at the top and bottom of the page would cover a field at an edge.
  field.focus({ preventScroll: true });
  field.scrollIntoView({ block: 'center' });
}

export function GenerateBar() {
  const job = useJobs((state) => state.job);
  const models = useGenerationModels();
  const blocker = generateBlocker(models, useEngineState((state) => state.gpu));
  const running = job?.status === 'running' || job?.status === 'cancelling';
  return (
    <div className="generate-bar" role="region" aria-label="Generate">
      <div className="generate-row">
        {running ? (
          <>
            {/* The same element as Generate (same place in the tree), so the focus stays on it; never disabled, for the same reason. */}
            <button type="button" className="danger" aria-disabled={job.status === 'cancelling' || undefined} aria-keyshortcuts="Escape" onClick={cancel}>
              {job.status === 'cancelling' ? 'Cancelling…' : 'Cancel'}
            </button>
            <kbd className="shortcut">Esc</kbd>
            <CompactProgress />
          </>
        ) : (
          <>
            <button
              type="button"
              className="primary"
              aria-disabled={blocker !== undefined || undefined}
              aria-describedby={blocker === undefined ? undefined : 'generate-blocked'}
              aria-keyshortcuts="Control+Enter"
              onClick={() => blocker === undefined && generateOrShowProblems()}
            >
              Generate
            </button>
            <span className="shortcut">
              <kbd>Ctrl</kbd>+<kbd>Enter</kbd>
            </span>
          </>
        )}
      </div>
      {blocker !== undefined && !running && (
        <p className="generate-blocked" id="generate-blocked">
          {blocker}{' '}
          <a href={models.ready ? '#gpu' : '#models'} className="link">
            {models.ready ? 'Go to GPU' : 'Go to Models'}
          </a>
        </p>
      )}
      <ProblemList />
    </div>
  );
}

function CompactProgress() {
  const job = useJobs((state) => state.job);
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  if (!job?.progress) return <span className="compact-progress">Starting…</span>;
  const eta = jobEta(job.id, now);
  return (
    <span className="compact-progress">
      {progressInWords(job.progress, job.story.frames.length)} · {eta.kind === 'estimating' ? 'estimating time left' : `${formatDuration(eta.ms)} left`}
    </span>
  );
}

function ProblemList() {
  const problems = useEditorProblems();
  if (problems.length === 0) return null;
  return (
    <div className="problem-list">
      <p>
        {problems.length === 1 ? 'One thing to fix' : `${problems.length} things to fix`} before the story can be made:
      </p>
      <ul>
        {problems.map((problem, i) => (
          <li key={i}>
            <button type="button" className="link" onClick={() => focusField(problem.path)}>
              {fieldName(problem.path)}
            </button>{' '}
            {problem.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
