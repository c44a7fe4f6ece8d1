// Where the story run stands: what is being made, how far, how long it still needs, what each
// stage took; after a stop, what is kept and how to go on (Resume, Continue, Continue at a smaller size).

import { useEffect, useRef, useState } from 'react';
import type { EngineErrorInfo } from '../../engine-api';
import { ErrorCard } from '../ErrorCard';
import { useGenerationModels } from '../models/models-store';
import { formatDuration } from './eta';
import { jobEta, jobRunning, unfinished, useJobs, type Job } from './jobs-store';
import { formatMs, framesInWords, progressInWords, STAGE_NAMES, stageInWords, stageTotals, workShare } from './progress-words';
import { resume } from './studio-actions';
import { pictureSize, smallerSide } from './story-edits';
import { useStory } from './story-store';

export function RunStatus() {
  const job = useJobs((state) => state.job);
  if (!job) return <GettingStarted />;
  return (
    <section className="run-status panel-inset" aria-labelledby="run-heading" data-status={job.status}>
      {jobRunning(job) ? <Running job={job} /> : <Ended job={job} />}
      <Announcer job={job} />
    </section>
  );
}

function GettingStarted() {
  const models = useGenerationModels();
  return (
    <section className="getting-started panel-inset" aria-labelledby="start-heading">
      <h3 id="start-heading">Your pictures appear here</h3>
      <ol className="steps">
        <li data-done={models.ready || undefined}>
          {models.ready ? (
            <>Models ready: {models.bundle.name}.</>
          ) : (
            <>
              Get the models (once, about 12 GB): <a href="#models">Models</a>.
            </>
          )}
        </li>
        <li>Write the story on the left, or start from an example.</li>
        <li>
          Press <strong>Generate</strong> (<kbd>Ctrl</kbd>+<kbd>Enter</kbd>). The identity is drawn first, then the frames; you can cancel
          at any moment (<kbd>Esc</kbd>) and keep what is finished.
        </li>
      </ol>
    </section>
  );
}

function Running({ job }: { job: Job }) {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const eta = jobEta(job.id, now);
  const share = workShare(job);
  const stage = job.progress ? progressInWords(job.progress, job.story.frames.length) : 'Starting the engine…';
  return (
    <>
      <h3 id="run-heading">{job.status === 'cancelling' ? 'Cancelling…' : 'Making your story'}</h3>
      <p className="stage-line">{stage}</p>
      <div className="progress-row">
        <progress max={1} value={share} aria-label="Story progress" aria-valuetext={`${Math.floor(100 * share)}%: ${stage}`} />
        <span className="percent">{Math.floor(100 * share)}%</span>
      </div>
      <p className="eta" aria-live="off">
        {eta.kind === 'estimating' ? 'Estimating the time left…' : `${formatDuration(eta.ms)} left`} · {whatItMakes(job)}
      </p>
      <StageTimes job={job} />
    </>
  );
}

function Ended({ job }: { job: Job }) {
  const total = job.endedAt ? formatMs(job.endedAt - job.startedAt) : '';
  const left = unfinished(job);
  const kept = keptInWords(job);
  if (job.status === 'done') {
    return (
      <>
        <h3 id="run-heading">Finished in {total}</h3>
        <p>
          Made {whatItMakes(job)}
          {job.summary ? ` in ${job.summary.forwardPasses} transformer passes.` : '.'}
        </p>
        <StageTimes job={job} />
      </>
    );
  }
  if (job.status === 'cancelled') {
    return (
      <>
        <h3 id="run-heading">Cancelled</h3>
        <p>
          {kept} Not made: {missingInWords(left)}.
        </p>
        <div className="actions">
          <button type="button" className="primary" onClick={() => resume()}>
            Resume
          </button>
          <span className="field-hint">makes the unfinished pictures only.</span>
        </div>
      </>
    );
  }
  return <Failed job={job} error={job.error!} kept={kept} />;
}

function Failed({ job, error, kept }: { job: Job; error: EngineErrorInfo; kept: string }) {
  const recoverable = error.code === 'device-lost' || error.code === 'out-of-memory';
  const story = useStory((state) => state.story);
  const left = unfinished(job);
  if (!recoverable) return <ErrorCard error={error} onRetry={() => resume()} retryLabel="Try again" />;
  const first = left.identity ? story.identity : story.frames[left.frames[0]];
  const size = first ? pictureSize(story, first) : undefined;
  return (
    <div className="recovery" role="alert">
      <h3 id="run-heading">{error.code === 'device-lost' ? 'The GPU stopped responding' : 'The GPU ran out of memory'}</h3>
      <p>{error.message}</p>
      <p>
        <strong>Your story and the finished pictures are kept.</strong> {kept} Still to make: {missingInWords(left)}.
      </p>
      <div className="actions">
        <button type="button" className="primary" onClick={() => resume()}>
          Continue
        </button>
        <button type="button" className="secondary" aria-describedby="smaller-why" onClick={() => resume({ smaller: true })}>
          Continue at a smaller size
        </button>
      </div>
      <p className="field-hint" id="smaller-why">
        {size && `At a smaller size the ${left.identity ? 'story' : 'unfinished frames'} go from ${size.width} × ${size.height} to ${smallerSide(size.width)} × ${smallerSide(size.height)}, one frame at a time. `}
        Both restart the GPU engine first.{error.code === 'out-of-memory' && ` ${error.action}`}
      </p>
    </div>
  );
}

function StageTimes({ job }: { job: Job }) {
  const totals = stageTotals(job.stages);
  if (totals.length === 0) return null;
  return (
    <details className="stage-times">
      <summary>Time per stage</summary>
      <dl>
        {totals.map(({ stage, ms }) => (
          <div key={stage}>
            <dt>{STAGE_NAMES[stage]}</dt>
            <dd>{formatMs(ms)}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

/** Tells screen readers when the stage changes and when a picture is finished; not every step. */
function Announcer({ job }: { job: Job }) {
  const [message, setMessage] = useState('');
  const last = useRef({ stage: '', pictures: 0, status: '' });
  useEffect(() => {
    const stage = job.progress ? stageInWords(job.progress, job.story.frames.length) : '';
    const pictures = job.received.frames.length + (job.received.identity ? 1 : 0);
    const previous = last.current;
    if (job.status !== previous.status && job.status !== 'running') setMessage(STATUS_NEWS[job.status]);
    else if (pictures > previous.pictures) setMessage(`${pictures} of ${job.pictures.frames.length + (job.pictures.identity ? 1 : 0)} pictures finished.`);
    else if (stage !== previous.stage && stage) setMessage(stage);
    last.current = { stage, pictures, status: job.status };
  }, [job]);
  return (
    <p className="visually-hidden" aria-live="polite">
      {message}
    </p>
  );
}

const STATUS_NEWS: Record<Job['status'], string> = {
  running: '',
  cancelling: 'Cancelling.',
  done: 'The story is finished.',
  cancelled: 'Cancelled; the finished pictures are kept.',
  failed: 'The story stopped with an error.',
};

function whatItMakes(job: Job): string {
  const frames = job.pictures.frames;
  const framesText = frames.length === 0 ? '' : frames.length === job.story.frames.length ? `${frames.length === 1 ? 'the frame' : `all ${frames.length} frames`}` : framesInWords(frames, job.story.frames.length);
  return [job.pictures.identity ? 'the identity' : '', framesText].filter(Boolean).join(' and ');
}

function keptInWords(job: Job): string {
  const kept = [job.received.identity ? 'the identity' : '', ...job.received.frames.map((frame) => `frame ${frame + 1}`)].filter(Boolean);
  return kept.length ? `Kept: ${kept.join(', ')}.` : 'Nothing was finished yet.';
}

function missingInWords(left: ReturnType<typeof unfinished>): string {
  const missing = [left.identity ? 'the identity' : '', ...left.frames.map((frame) => `frame ${frame + 1}`)].filter(Boolean);
  return missing.length ? missing.join(', ') : 'nothing';
}
