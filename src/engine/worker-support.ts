// Helpers for exposing the engine from a worker with comlink.

import { transfer, type TransferHandler } from 'comlink';
import { EngineError } from './errors';

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
