// Starts the engine worker once, keeps the store informed of its state, and offers the actions
// the UI needs (restart after a lost device, self-check).

import { callback, errorInfo, startEngineWorker, type EngineClient } from './engine-client';
import type { Progress } from '../engine-api';
import { useEngineState } from './store';

let engine: EngineClient | undefined;

function client(): EngineClient {
  if (!engine) {
    engine = startEngineWorker();
    // A handle for end-to-end tests and curious users (devtools); the same API the UI uses.
    (globalThis as { characonsistEngine?: EngineClient }).characonsistEngine = engine;
    void engine.onDeviceLost(callback((error) => useEngineState.getState().setGpu({ kind: 'lost', error })));
  }
  return engine;
}

export async function startGpu(): Promise<void> {
  const { setGpu } = useEngineState.getState();
  setGpu({ kind: 'starting' });
  try {
    setGpu({ kind: 'ready', report: await client().init() });
  } catch (error) {
    setGpu({ kind: 'failed', error: errorInfo(error) });
  }
}

export async function restartGpu(): Promise<void> {
  await client().dispose();
  await startGpu();
}

export async function runSelfCheck(length: number): Promise<void> {
  const { setSelfCheck } = useEngineState.getState();
  setSelfCheck({ kind: 'running', stage: 'starting' });
  try {
    const seed = Math.floor(Math.random() * 2 ** 32);
    const result = await client().selfCheck(
      { length, seed },
      callback((progress: Progress) => setSelfCheck({ kind: 'running', stage: progress.stage })),
    );
    setSelfCheck({ kind: 'done', result: { passed: result.passed, relativeError: result.relativeError, gpuMs: result.gpuMs, sum: result.sum, length } });
  } catch (error) {
    setSelfCheck({ kind: 'failed', error: errorInfo(error) });
  }
}
