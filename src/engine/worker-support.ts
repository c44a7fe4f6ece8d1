// Helpers for exposing the engine from a worker with comlink.

import { transfer, type TransferHandler } from 'comlink';
import { EngineError } from './errors';

/**
 * The engine's methods as the worker exposes them: each result's typed arrays are transferred.
 * `methods` lists every method of the API (the type makes a missing one a compile error).
 */
export function exposedEngine<Api extends object>(engine: Api, methods: Record<keyof Api, true>): Api {
  const exposed: Record<string, unknown> = {};
  for (const name of Object.keys(methods)) {
    const method = (engine as Record<string, (...args: unknown[]) => unknown>)[name];
    exposed[name] = async (...args: unknown[]) => {
      const result: unknown = await method.apply(engine, args);
      return result && typeof result === 'object' ? transferableResult(result) : result;
    };
  }
  return exposed as Api;
}

/** Marks every typed array inside `result` (at any depth) for transfer instead of a copy. */
export function transferableResult<T extends object>(result: T): T {
  const buffers = new Set<ArrayBuffer>();
  const visit = (value: unknown): void => {
    if (ArrayBuffer.isView(value)) buffers.add(value.buffer as ArrayBuffer);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(result);
  return transfer(result, [...buffers]);
}

/**
 * Comlink serialises a thrown Error as {message, name, stack} only; keep `code` and `action` too.
 * Its deserialiser Object.assigns the fields onto a new Error, so the UI sees them unchanged.
 */
export function keepErrorFields(handlers: Map<string, TransferHandler<unknown, unknown>>): void {
  const original = handlers.get('throw');
  if (!original) return;
  handlers.set('throw', {
    canHandle: original.canHandle,
    serialize(thrown) {
      const { value } = thrown as { value: unknown };
      const [serialized, transferables] = original.serialize(thrown);
      if (value instanceof EngineError) {
        (serialized as { value: object }).value = { ...(serialized as { value: object }).value, code: value.code, action: value.action };
      }
      return [serialized, transferables];
    },
    deserialize: original.deserialize,
  });
}
