// The model panel's state (zustand): the catalog in use, the bundle the user chose, the licences
// they accepted, what the browser's storage holds, running downloads, local files picked per
// component, and the capability verdicts; with the selectors the panel and models-store.ts share.

import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type {
  CapabilityVerdict, DownloadProgress, EngineErrorInfo, ModelFileReport, ModelSet, ModelSource, StorageReport, StoredModelFile,
} from '../../engine-api';
import { defaultBundle, MODEL_COMPONENTS, type Bundle, type Catalog, type CatalogFile, type ModelComponent } from '../../schema/catalog';

export type CatalogState =
  | { kind: 'loading' }
  /** `from`: where it came from; `problem`: why a catalog the user asked for is not the one in use */
  | { kind: 'ready'; catalog: Catalog; from: string; problem?: string };

export interface DownloadView {
  state: 'running' | 'paused' | 'failed';
  progress?: DownloadProgress;
  error?: EngineErrorInfo;
}

/** A file the user picked for one component, and what the engine made of it. */
export interface LocalFile {
  file: File;
  status: 'checking' | 'ok' | 'refused';
  report?: ModelFileReport;
  error?: EngineErrorInfo;
  /** the catalog file it is byte for byte (same sha256), if any */
  sameAs?: string;
}

export type CapabilityState =
  | { kind: 'idle' }
  | { kind: 'checking' }
  | { kind: 'done'; verdicts: Record<string, CapabilityVerdict> }
  | { kind: 'failed'; error: EngineErrorInfo };

export interface ModelsState {
  catalog: CatalogState;
  /** persisted settings */
  customCatalogUrl: string;
  selectedBundleId: string | undefined;
  acceptedLicences: string[];
  /** GiB, as the user gave it; browsers do not tell web pages */
  gpuMemoryGiB: number | undefined;

  stored: StoredModelFile[];
  downloads: Record<string, DownloadView>;
  localFiles: Partial<Record<ModelComponent, LocalFile>>;
  storage: StorageReport | undefined;
  /** navigator.storage.persisted(); undefined until asked */
  persisted: boolean | undefined;
  capability: CapabilityState;
  /** the last failure of a storage action (delete, free space, listing) */
  storageError: EngineErrorInfo | undefined;
}

export const useModels = create<ModelsState>()(
  persist(
    (): ModelsState => ({
      catalog: { kind: 'loading' },
      customCatalogUrl: '',
      selectedBundleId: undefined,
      acceptedLicences: [],
      gpuMemoryGiB: undefined,
      stored: [],
      downloads: {},
      localFiles: {},
      storage: undefined,
      persisted: undefined,
      capability: { kind: 'idle' },
      storageError: undefined,
    }),
    {
      name: 'characonsist.models',
      version: 1,
      partialize: ({ customCatalogUrl, selectedBundleId, acceptedLicences, gpuMemoryGiB }) => ({ customCatalogUrl, selectedBundleId, acceptedLicences, gpuMemoryGiB }),
    },
  ),
);

/** The bundle in use: the one chosen, else the catalog's default. */
export function selectedBundle(state: Pick<ModelsState, 'catalog' | 'selectedBundleId'>): Bundle | undefined {
  if (state.catalog.kind !== 'ready') return undefined;
  const { bundles } = state.catalog.catalog;
  return bundles.find((bundle) => bundle.id === state.selectedBundleId) ?? defaultBundle(state.catalog.catalog);
}

export function catalogFile(catalog: Catalog, id: string): CatalogFile {
  return catalog.files.find((file) => file.id === id)!;
}

/** Licences of the bundle's files that must be accepted and are not yet. */
export function pendingLicences(state: Pick<ModelsState, 'acceptedLicences'>, catalog: Catalog, bundle: Bundle) {
  const ids = new Set(MODEL_COMPONENTS.map((component) => catalogFile(catalog, bundle.files[component]).licence));
  return catalog.licences.filter((licence) => ids.has(licence.id) && licence.requiresAcceptance && !state.acceptedLicences.includes(licence.id));
}

/** The tokenizer files the app ships (public/tokenizers), as absolute URLs of this page. */
export function appTokenizers(base = document.baseURI): ModelSet['tokenizers'] {
  const at = (path: string): ModelSource => ({ url: new URL(`tokenizers/${path}`, base).href });
  return {
    t5: { tokenizer: at('t5-v1_1-xxl/tokenizer.json'), config: at('t5-v1_1-xxl/tokenizer_config.json') },
    clip: { vocab: at('clip-vit-large-patch14/vocab.json'), merges: at('clip-vit-large-patch14/merges.txt'), config: at('clip-vit-large-patch14/tokenizer_config.json') },
  };
}
