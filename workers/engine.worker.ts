// Thin worker entry: exposes the engine over comlink. Large typed arrays in results are
// transferred, not copied; thrown engine errors keep their code and action across the boundary.

import * as Comlink from 'comlink';
import type { EngineApi } from '../src/engine-api';
import { Engine } from '../src/engine/engine';
import { exposedEngine, keepErrorFields } from '../src/engine/worker-support';

keepErrorFields(Comlink.transferHandlers);

const engine = new Engine(() => (typeof navigator !== 'undefined' ? navigator.gpu : undefined));

Comlink.expose(
  exposedEngine<EngineApi>(engine, {
    init: true, selfCheck: true, generateImage: true, generateStory: true, cancel: true, countTokens: true, onDeviceLost: true, dispose: true,
    downloadModel: true, pauseDownload: true, cancelDownload: true, deleteStoredModel: true, listStoredModels: true, freeStorage: true, storageReport: true,
    checkModelFile: true, checkCapabilities: true,
  }),
);
