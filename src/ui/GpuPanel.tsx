import type { GpuReport } from '../engine-api';
import { ErrorCard } from './ErrorCard';
import { restartGpu, runSelfCheck, startGpu } from './engine-client';
import { useEngineState, type SelfCheckStatus } from './store';

const SELF_CHECK_LENGTH = 1_000_003;

export function GpuPanel() {
  const gpu = useEngineState((state) => state.gpu);
  return (
    <section className="panel gpu-panel" data-testid="gpu-panel" data-status={gpu.kind}>
      <h2>GPU</h2>
      {gpu.kind === 'starting' && <p className="muted">Starting the GPU engine…</p>}
      {gpu.kind === 'failed' && <ErrorCard error={gpu.error} onRetry={() => void startGpu()} />}
      {gpu.kind === 'lost' && <ErrorCard error={gpu.error} onRetry={() => void restartGpu()} retryLabel="Continue" />}
      {gpu.kind === 'ready' && <GpuReportView report={gpu.report} />}
    </section>
  );
}

function GpuReportView({ report }: { report: GpuReport }) {
  const name = [report.vendor, report.architecture].filter(Boolean).join(' · ') || 'unknown adapter';
  return (
    <>
      <p className="adapter" data-testid="gpu-adapter">
        <strong>{name}</strong>
        {report.isSoftware && <span className="badge warn">software: correct but very slow</span>}
      </p>
      {report.description && <p className="muted">{report.description}</p>}
      <p className="features" data-testid="gpu-features">
        {report.features.length ? report.features.map((f) => <span className="badge" key={f}>{f}</span>) : <span className="muted">no optional features</span>}
      </p>
      <table className="limits">
        <tbody>
          {Object.entries(report.limits).map(([name, value]) => (
            <tr key={name}>
              <th>{name}</th>
              <td>{formatLimit(name, value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <SelfCheck />
    </>
  );
}

function SelfCheck() {
  const status = useEngineState((state) => state.selfCheck);
  const running = status.kind === 'running';
  return (
    <div className="self-check" data-testid="self-check" data-status={status.kind} data-passed={status.kind === 'done' ? String(status.result.passed) : undefined}>
      <button type="button" disabled={running} onClick={() => void runSelfCheck(SELF_CHECK_LENGTH)}>
        {running ? `Checking (${status.stage})…` : 'Run GPU self-check'}
      </button>
      <SelfCheckOutcome status={status} />
    </div>
  );
}

function SelfCheckOutcome({ status }: { status: SelfCheckStatus }) {
  if (status.kind === 'failed') return <ErrorCard error={status.error} />;
  if (status.kind !== 'done') return null;
  const { passed, relativeError, gpuMs, length } = status.result;
  return (
    <p className={passed ? 'ok' : 'bad'}>
      {passed ? 'Passed' : 'FAILED'}: {length.toLocaleString()} elements, relative error {relativeError.toExponential(2)}, {gpuMs.toFixed(1)} ms
    </p>
  );
}

function formatLimit(name: string, value: number): string {
  if (/Size$/.test(name) && value >= 1024) return `${(value / 2 ** 20).toLocaleString()} MiB`;
  return value.toLocaleString();
}
