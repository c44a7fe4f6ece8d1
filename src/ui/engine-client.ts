// The UI's only door to the engine: one comlink proxy of the worker's EngineApi, started once;
// the GPU's life as the UI sees it (start, restart after a loss, self-check) kept in the engine
// store; and the calls the studio makes. Every engine call of the UI goes through here.

import * as Comlink from 'comlink';
import type {
  EngineApi, EngineErrorCode, EngineErrorInfo, ModelSet, Progress, StoryRunRequest, StoryRunResult, StoryUpdateCallback,
} from '../engine-api';
import { useEngineState } from './store';

export type EngineClient = Comlink.Remote<EngineApi>;

let engine: EngineClient | undefined;

/** The engine worker's proxy, started on first use. */
export function engineClient(): EngineClient {
  if (!engine) {
    const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
    engine = Comlink.wrap<EngineApi>(worker);
    // A handle for end-to-end tests and curious users (devtools); the same API the UI uses.
    (globalThis as { characonsistEngine?: EngineClient }).characonsistEngine = engine;
    void engine.onDeviceLost(Comlink.proxy((error) => useEngineState.getState().setGpu({ kind: 'lost', error })));
  }
  return engine;
}

export async function startGpu(): Promise<void> {
  const { setGpu } = useEngineState.getState();
  setGpu({ kind: 'starting' });
  try {
    setGpu({ kind: 'ready', report: await engineClient().init() });
  } catch (error) {
    setGpu({ kind: 'failed', error: errorInfo(error) });
  }
}

/** Frees everything the engine holds on the GPU and starts it again (after a lost device or running out of memory). */
export async function restartGpu(): Promise<void> {
  await engineClient().dispose();
  await startGpu();
}

export async function runSelfCheck(length: number): Promise<void> {
  const { setSelfCheck } = useEngineState.getState();
  setSelfCheck({ kind: 'running', stage: 'starting' });
  try {
    const seed = Math.floor(Math.random() * 2 ** 32);
    const result = await engineClient().selfCheck(
      { length, seed },
      Comlink.proxy((progress: Progress) => setSelfCheck({ kind: 'running', stage: progress.stage })),
    );
    setSelfCheck({ kind: 'done', result: { passed: result.passed, relativeError: result.relativeError, gpuMs: result.gpuMs, sum: result.sum, length } });
  } catch (error) {
    setSelfCheck({ kind: 'failed', error: errorInfo(error) });
  }
}

/** A callback handed to the engine (progress of a download, a check): passed by reference, never cloned. */
export const engineCallback = Comlink.proxy;

/** Runs a story; `onUpdate` hears every progress step, preview, mask and finished picture. */
export function generateStory(request: StoryRunRequest, onUpdate: StoryUpdateCallback): Promise<StoryRunResult> {
  return engineClient().generateStory(request, Comlink.proxy(onUpdate));
}

/** Stops the running generation; it then rejects with code 'cancelled'. */
export function cancelGeneration(): Promise<void> {
  return engineClient().cancel();
}

/** T5 tokens of each text, without the end-of-text token. */
export function countTokens(tokenizers: ModelSet['tokenizers'], texts: string[]): Promise<number[]> {
  return engineClient().countTokens(tokenizers, texts);
}

const CODES: readonly EngineErrorCode[] = [
  'webgpu-unavailable', 'no-adapter', 'limits-too-small', 'shader-compile', 'device-lost',
  'out-of-memory', 'binding-too-large', 'invalid-input', 'model-file', 'network', 'storage', 'cancelled', 'internal',
];

/** Reads the code/message/action an engine error carries across the worker boundary. */
export function errorInfo(error: unknown): EngineErrorInfo {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as Partial<EngineErrorInfo>;
  const code = CODES.includes(fields.code as EngineErrorCode) ? (fields.code as EngineErrorCode) : 'internal';
  return {
    code,
    message: fields.message ?? String(error),
    action: fields.action ?? 'Reload the page. If it happens again, please report it with this message.',
  };
}
