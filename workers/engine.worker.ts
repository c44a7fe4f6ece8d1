// Thin worker entry: exposes the engine over comlink. Large typed arrays in results are
// transferred, not copied; thrown engine errors keep their code and action across the boundary.

import * as Comlink from 'comlink';
import type { EngineApi } from '../src/engine-api';
import { Engine } from '../src/engine/engine';
import { transferableResult, keepErrorFields } from '../src/engine/worker-support';

keepErrorFields(Comlink.transferHandlers);

const engine = new Engine(() => (typeof navigator !== 'undefined' ? navigator.gpu : undefined));

const api: EngineApi = {
  init: () => engine.init(),
  selfCheck: async (request, onProgress) => transferableResult(await engine.selfCheck(request, onProgress)),
  generateImage: async (request, onProgress) => transferableResult(await engine.generateImage(request, onProgress)),
  generateStory: async (request, onProgress) => transferableResult(await engine.generateStory(request, onProgress)),
  onDeviceLost: (listener) => engine.onDeviceLost(listener),
  dispose: () => engine.dispose(),
};

Comlink.expose(api);
