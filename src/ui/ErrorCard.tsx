import type { EngineErrorCode, EngineErrorInfo } from '../engine-api';

const TITLES: Record<EngineErrorCode, string> = {
  'webgpu-unavailable': 'This browser has no WebGPU',
  'no-adapter': 'No GPU available',
  'limits-too-small': 'This GPU is too small for that',
  'shader-compile': 'A GPU program failed to compile',
  'device-lost': 'The GPU stopped responding',
  'out-of-memory': 'Out of GPU memory',
  'binding-too-large': 'A tensor is too large for this GPU',
  'invalid-input': 'Please check the input',
  'model-file': 'A model file cannot be used',
  network: 'A download failed',
  storage: 'The browser’s storage refused',
  cancelled: 'Stopped',
  internal: 'Something went wrong',
};

export function ErrorCard({ error, onRetry, retryLabel = 'Try again' }: { error: EngineErrorInfo; onRetry?: () => void; retryLabel?: string }) {
  return (
    <section className="error-card" role="alert" data-testid="error-card" data-code={error.code}>
      <h2>{TITLES[error.code]}</h2>
      <p className="error-message">{error.message}</p>
      <p className="error-action">{error.action}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {retryLabel}
        </button>
      )}
    </section>
  );
}
