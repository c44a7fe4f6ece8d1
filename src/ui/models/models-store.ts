// What the studio asks of the models: `generationModels()` turns the model panel's state (the
// bundle chosen, its licences, what is stored or picked) into the ModelSet a generation needs, or
// the reason there is none yet. Using it starts the models store (catalog, stored files).

import { useEffect } from 'react';
import type { ModelSet, ModelSource } from '../../engine-api';
import { MODEL_COMPONENTS, type ModelComponent } from '../../schema/catalog';
import { startModels } from './model-actions';
import { appTokenizers, catalogFile, pendingLicences, selectedBundle, useModels, type ModelsState } from './models-state';

// The state and its selectors, for other areas that read the models store (history, share links, the studio).
export { appTokenizers, catalogFile, pendingLicences, selectedBundle, useModels };
export type { CapabilityState, CatalogState, DownloadView, LocalFile, ModelsState } from './models-state';

export type GenerationModels =
  | {
      ready: true;
      models: ModelSet;
      bundle: {
        id: string;
        name: string;
        schedule: 'dev-50' | 'schnell-4';
        files: { component: ModelComponent; id: string; sha256?: string; bytes: number }[];
      };
    }
  | { ready: false; reason: string };

/** The models a generation uses now (plain getter, e.g. for a click handler). */
export function generationModels(): GenerationModels {
  return selectGenerationModels(useModels.getState());
}

/** The same as a React hook: re-renders when the answer changes (and starts the models store if nothing has). */
export function useGenerationModels(): GenerationModels {
  useEffect(() => void startModels(), []);
  return useModels(selectGenerationModels);
}

type Inputs = Pick<ModelsState, 'catalog' | 'selectedBundleId' | 'acceptedLicences' | 'stored' | 'localFiles'>;

let last: { inputs: Inputs; result: GenerationModels } | undefined;

/** Memoised on its inputs: React's store subscription needs the same object while nothing changed. */
function selectGenerationModels(state: ModelsState): GenerationModels {
  const inputs: Inputs = { catalog: state.catalog, selectedBundleId: state.selectedBundleId, acceptedLicences: state.acceptedLicences, stored: state.stored, localFiles: state.localFiles };
  if (last && (Object.keys(inputs) as (keyof Inputs)[]).every((key) => last!.inputs[key] === inputs[key])) return last.result;
  last = { inputs, result: computeGenerationModels(inputs) };
  return last.result;
}

function computeGenerationModels(state: Inputs): GenerationModels {
  if (state.catalog.kind !== 'ready') return { ready: false, reason: 'The model catalog is loading.' };
  const { catalog } = state.catalog;
  const bundle = selectedBundle(state)!;
  const pending = pendingLicences(state, catalog, bundle);
  if (pending.length) return { ready: false, reason: `${bundle.name} needs its licence accepted (${pending[0].name}): open Models.` };
  const files: Extract<GenerationModels, { ready: true }>['bundle']['files'] = [];
  const sources = {} as Record<ModelComponent, ModelSource>;
  for (const component of MODEL_COMPONENTS) {
    const local = state.localFiles[component];
    const entry = catalogFile(catalog, bundle.files[component]);
    if (local?.status === 'ok') {
      sources[component] = { file: local.file, name: local.file.name };
      files.push({ component, id: local.sameAs ?? `local:${local.file.name}`, sha256: local.report?.sha256, bytes: local.file.size });
      continue;
    }
    const stored = state.stored.find((file) => file.fileId === entry.id && file.status === 'ready');
    if (!stored) return { ready: false, reason: `${entry.name} (${component}) is not downloaded yet: open Models to download ${bundle.name}.` };
    sources[component] = { stored: stored.fileId };
    files.push({ component, id: stored.fileId, sha256: stored.sha256, bytes: stored.totalBytes });
  }
  return {
    ready: true,
    models: { ...sources, tokenizers: appTokenizers() },
    bundle: { id: bundle.id, name: bundle.name, schedule: bundle.schedule, files },
  };
}

// A handle for end-to-end tests and curious users (devtools), as `characonsistEngine` is.
(globalThis as { characonsistModels?: { generationModels: typeof generationModels } }).characonsistModels = { generationModels };
