import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine';
import { EngineError } from '../../src/engine/errors';
import { keepErrorFields } from '../../src/engine/worker-support';
import { errorInfo } from '../../src/ui/engine-client';
import { transferHandlers } from 'comlink';

describe('engine errors', () => {
  it('reports a missing navigator.gpu as webgpu-unavailable, naming browsers that have it', async () => {
    const engine = new Engine(() => undefined);
    const error = await engine.init().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('webgpu-unavailable');
    expect((error as EngineError).action).toMatch(/Chrome.*Safari.*Firefox/);
  });

  it('reports a GPU without adapter as no-adapter', async () => {
    const gpu = { requestAdapter: async () => null, wgslLanguageFeatures: new Set() } as unknown as GPU;
    const error = await new Engine(() => gpu).init().then(() => undefined, (e: unknown) => e);
    expect((error as EngineError).code).toBe('no-adapter');
  });

  it('keeps code and action when an engine error crosses the comlink boundary', () => {
    const handlers = new Map(transferHandlers);
    keepErrorFields(handlers);
    const handler = handlers.get('throw')!;
    const thrown = new EngineError('out-of-memory', 'could not allocate', 'use a smaller size');
    // Comlink marks thrown values with a private symbol; the handler only needs `value`.
    const [wire] = handler.serialize({ value: thrown } as never);
    const received = (() => {
      try {
        handler.deserialize(structuredClone(wire));
      } catch (error) {
        return error;
      }
    })();
    expect(errorInfo(received)).toEqual({ code: 'out-of-memory', message: 'could not allocate', action: 'use a smaller size' });
  });

  it('turns anything else into an internal error with advice', () => {
    expect(errorInfo('boom')).toMatchObject({ code: 'internal', message: 'boom' });
  });
});
