// The UI's only door to the engine: a comlink proxy of the worker's EngineApi.

import * as Comlink from 'comlink';
import type { EngineApi, EngineErrorCode, EngineErrorInfo } from '../engine-api';

export type EngineClient = Comlink.Remote<EngineApi>;

export function startEngineWorker(): EngineClient {
  const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  return Comlink.wrap<EngineApi>(worker);
}

/** Callbacks handed to the engine must be proxied, not cloned. */
export const callback = Comlink.proxy;

const CODES: readonly EngineErrorCode[] = [
  'webgpu-unavailable', 'no-adapter', 'limits-too-small', 'shader-compile', 'device-lost',
  'out-of-memory', 'binding-too-large', 'invalid-input', 'model-file', 'network', 'internal',
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
