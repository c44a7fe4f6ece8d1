// Helpers for exposing the engine from a worker with comlink.

import { transfer, type TransferHandler } from 'comlink';
import { EngineError } from './errors';

/** Marks every typed array found directly in `result` for transfer instead of a copy. */
export function transferableResult<T extends object>(result: T): T {
  const buffers = Object.values(result)
    .filter((value): value is ArrayBufferView => ArrayBuffer.isView(value))
    .map((view) => view.buffer as ArrayBuffer);
  return transfer(result, [...new Set(buffers)]);
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
