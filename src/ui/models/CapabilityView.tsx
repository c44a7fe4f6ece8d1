// Whether this browser and GPU can run the bundle: the reasons it cannot, the GPU memory a picture
// and a story batch need at each size, and the largest size that fits.

import { useId } from 'react';
import type { Bundle } from '../../schema/catalog';
import { ErrorCard } from '../ErrorCard';
import { useEngineState } from '../store';
import { gibibytes } from './format';
import { setGpuMemory, VERDICT_FRAMES_PER_BATCH } from './model-actions';
import { useModels } from './models-state';

const GPU_MEMORY_CHOICES_GIB = [4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 80];

export function CapabilityView({ bundle }: { bundle: Bundle }) {
  const gpu = useEngineState((state) => state.gpu);
  const capability = useModels((state) => state.capability);
  const headingId = useId();
  const gpuFailed = gpu.kind === 'failed' || gpu.kind === 'lost';
  const verdict = capability.kind === 'done' && !gpuFailed ? capability.verdicts[bundle.id] : undefined;
  return (
    <section className="capability" aria-labelledby={headingId} data-testid="capability" data-runnable={verdict ? String(verdict.runnable) : undefined}>
      <h4 id={headingId}>Can this computer run it?</h4>
      {gpuFailed && (
        <>
          <p className="bad">No: the GPU engine cannot start here.</p>
          <ErrorCard error={gpu.error} />
        </>
      )}
      {gpu.kind === 'starting' && <p className="muted">Waiting for the GPU…</p>}
      {capability.kind === 'checking' && !verdict && <p className="muted">Checking the GPU's limits and the memory each size needs…</p>}
      {capability.kind === 'failed' && !gpuFailed && <ErrorCard error={capability.error} />}
      {verdict && (
        <>
          <p className={verdict.runnable ? 'ok' : 'bad'} data-testid="capability-verdict">
            {verdict.runnable
              ? `Yes${verdict.largestSide ? `, up to ${verdict.largestSide}×${verdict.largestSide} pixels` : ''}.`
              : `No: ${verdict.reasons.join(' ')}`}
            {verdict.runnable && verdict.largestSide && verdict.largestSide < Math.max(...verdict.sizes.map((size) => size.side)) && ` Larger sizes do not fit: choose ${verdict.largestSide}×${verdict.largestSide} or smaller.`}
          </p>
          {verdict.notes.map((note) => (
            <p key={note} className="muted">
              {note}
            </p>
          ))}
          {verdict.sizes.length > 0 && (
            <table className="capability-sizes">
              <caption>GPU memory needed ({verdict.exact ? 'from the files themselves' : 'estimated from the file sizes'})</caption>
              <thead>
                <tr>
                  <th scope="col">Size</th>
                  <th scope="col">One picture</th>
                  <th scope="col">Story, {VERDICT_FRAMES_PER_BATCH} frames at once</th>
                  <th scope="col">Fits</th>
                </tr>
              </thead>
              <tbody>
                {verdict.sizes.map((size) => (
                  <tr key={size.side}>
                    <th scope="row">
                      {size.side}×{size.side}
                    </th>
                    <td className="number">{gibibytes(size.imageBytes)}</td>
                    <td className="number">{gibibytes(size.storyBytes)}</td>
                    <td>{size.fits ? 'yes' : `no: ${size.reason}`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <GpuMemorySetting />
        </>
      )}
    </section>
  );
}

function GpuMemorySetting() {
  const gib = useModels((state) => state.gpuMemoryGiB);
  return (
    <label className="inline">
      Your GPU's memory{' '}
      <select value={gib ?? ''} onChange={(event) => setGpuMemory(event.target.value ? Number(event.target.value) : undefined)}>
        <option value="">not given</option>
        {GPU_MEMORY_CHOICES_GIB.map((choice) => (
          <option key={choice} value={choice}>
            {choice} GB
          </option>
        ))}
      </select>
    </label>
  );
}
