// What the model panel does, through the engine client: load the catalog, download a bundle file
// by file (persistent storage requested and the quota checked first), pause, resume, cancel,
// delete, free space, check picked files, and ask what this GPU can run.

import type { CapabilityBundle, CatalogFile, DownloadProgress, EngineErrorInfo, ModelComponent, ModelSource } from '../../engine-api';
import { MODEL_COMPONENTS, type Bundle } from '../../schema/catalog';
import { engineCallback, engineClient, errorInfo } from '../engine-client';
import { loadCatalog } from './catalog-source';
import { gigabytes } from './format';
import { catalogFile, selectedBundle, useModels, type DownloadView } from './models-state';

/** Square image sides the capability verdict estimates, pixels. */
export const VERDICT_SIDES = [512, 768, 1024, 1536];
/** Frames per lockstep batch assumed for the story estimate (the studio's default). */
export const VERDICT_FRAMES_PER_BATCH = 4;

const set = useModels.setState;
const state = useModels.getState;
let bundleDownload: Promise<void> | undefined;
/** downloads being cancelled: their stop is not a pause */
const cancelling = new Set<string>();

let started: Promise<void> | undefined;

/** initModels, once per page: whoever first needs the models (the panel, the studio) starts them. */
export function startModels(): Promise<void> {
  started ??= initModels();
  return started;
}

/** Loads the catalog and what the browser holds; resumes downloads a closed page left running. */
async function initModels(): Promise<void> {
  await reloadCatalog();
  await Promise.all([refreshStored(), refreshStorage(), readPersisted()]);
  const bundle = selectedBundle(state());
  if (bundle && state().stored.some((file) => file.interrupted && Object.values(bundle.files).includes(file.fileId))) void downloadBundle();
}

export async function reloadCatalog(): Promise<void> {
  const query = new URLSearchParams(location.search).get('catalog') ?? undefined;
  set({ catalog: await loadCatalog(query ?? (state().customCatalogUrl || undefined)) });
}

export async function setCatalogUrl(url: string): Promise<void> {
  set({ customCatalogUrl: url.trim() });
  await reloadCatalog();
  await checkCapabilities();
}

export function selectBundle(bundleId: string): void {
  set({ selectedBundleId: bundleId });
  void checkCapabilities();
}

export function acceptLicence(licenceId: string): void {
  set(({ acceptedLicences }) => ({ acceptedLicences: [...new Set([...acceptedLicences, licenceId])] }));
}

export function setGpuMemory(gib: number | undefined): void {
  set({ gpuMemoryGiB: gib });
  void checkCapabilities();
}

export async function refreshStored(): Promise<void> {
  try {
    set({ stored: await engineClient().listStoredModels(), storageError: undefined });
  } catch (error) {
    set({ storageError: errorInfo(error) });
  }
}

export async function refreshStorage(): Promise<void> {
  try {
    set({ storage: await engineClient().storageReport() });
  } catch (error) {
    set({ storageError: errorInfo(error) });
  }
}

async function readPersisted(): Promise<void> {
  set({ persisted: (await navigator.storage?.persisted?.()) ?? false });
}

/** Asks the browser to keep the models when disk space runs low (Firefox needs this for more than 10 GiB). */
export async function requestPersistence(): Promise<boolean> {
  const granted = (await navigator.storage?.persist?.()) ?? false;
  set({ persisted: granted });
  return granted;
}

/** Downloads every file of the selected bundle that is not stored yet, one after another. */
export function downloadBundle(): Promise<void> {
  bundleDownload ??= runBundleDownload().finally(() => (bundleDownload = undefined));
  return bundleDownload;
}

async function runBundleDownload(): Promise<void> {
  const { catalog } = state();
  const bundle = selectedBundle(state());
  if (catalog.kind !== 'ready' || !bundle) return;
  const files = missingFiles(bundle);
  if (!files.length) return;
  if (!state().persisted) await requestPersistence();
  await refreshStorage();
  const shortfall = quotaShortfall(files);
  if (shortfall) {
    files.forEach((file) => setDownload(file.id, { state: 'failed', error: shortfall }));
    return;
  }
  for (const file of files) {
    if (!(await downloadOne(file))) break;
  }
  await Promise.all([refreshStored(), refreshStorage()]);
  await checkCapabilities();
}

/** The bundle's catalog files that are not stored and verified (files picked from disk stand in for theirs). */
function missingFiles(bundle: Bundle): CatalogFile[] {
  const { catalog, stored, localFiles } = state();
  if (catalog.kind !== 'ready') return [];
  return MODEL_COMPONENTS.filter((component) => localFiles[component]?.status !== 'ok')
    .map((component) => catalogFile(catalog.catalog, bundle.files[component]))
    .filter((file) => !stored.some((entry) => entry.fileId === file.id && entry.status === 'ready'));
}

/** Refused up front: a download that cannot fit would fail gigabytes in. */
function quotaShortfall(files: readonly CatalogFile[]): EngineErrorInfo | undefined {
  const { storage, stored } = state();
  if (!storage || storage.quotaBytes === 0) return undefined;
  const needed = files.reduce((sum, file) => sum + file.bytes - (stored.find((entry) => entry.fileId === file.id)?.bytes ?? 0), 0);
  const free = storage.quotaBytes - storage.usageBytes;
  if (needed <= free) return undefined;
  return {
    code: 'storage',
    message: `This bundle needs ${gigabytes(needed)} more, but the browser lets this site store only ${gigabytes(Math.max(0, free))} more.`,
    action: 'Delete stored files you no longer need (Free space), allow persistent storage, free disk space, or pick some files from your disk instead.',
  };
}

/** Downloads one file; false when it stopped (paused, cancelled, failed) and the bundle should wait. */
async function downloadOne(file: CatalogFile): Promise<boolean> {
  setDownload(file.id, { state: 'running' });
  // Progress comes through the callback's own channel: its last messages may arrive after the result.
  let settled = false;
  try {
    await engineClient().downloadModel(file, engineCallback((progress: DownloadProgress) => settled || setDownload(file.id, { state: 'running', progress })));
    settled = true;
    clearDownload(file.id);
    await refreshStored();
    return true;
  } catch (error) {
    settled = true;
    const info = errorInfo(error);
    if (info.code === 'cancelled') {
      if (!cancelling.has(file.id)) setDownload(file.id, { ...state().downloads[file.id], state: 'paused', error: undefined });
    } else {
      setDownload(file.id, { ...state().downloads[file.id], state: 'failed', error: info });
    }
    await refreshStored();
    return false;
  }
}

export async function pauseDownload(fileId: string): Promise<void> {
  await engineClient().pauseDownload(fileId);
}

export async function cancelDownload(fileId: string): Promise<void> {
  cancelling.add(fileId);
  try {
    await engineClient().cancelDownload(fileId);
  } finally {
    cancelling.delete(fileId);
  }
  clearDownload(fileId);
  await Promise.all([refreshStored(), refreshStorage()]);
}

export async function deleteStored(fileId: string): Promise<void> {
  await storageAction(() => engineClient().deleteStoredModel(fileId));
}

/** Deletes partial downloads and every stored file the selected bundle does not use. */
export async function freeSpace(): Promise<void> {
  const bundle = selectedBundle(state());
  await storageAction(() => engineClient().freeStorage(bundle ? Object.values(bundle.files) : []));
}

async function storageAction(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
    set({ storageError: undefined });
  } catch (error) {
    set({ storageError: errorInfo(error) });
  }
  await Promise.all([refreshStored(), refreshStorage()]);
  await checkCapabilities();
}

/** Uses a file from this computer for one component, once the engine has checked it as it checks downloads. */
export async function pickLocalFile(component: ModelComponent, file: File): Promise<void> {
  set(({ localFiles }) => ({ localFiles: { ...localFiles, [component]: { file, status: 'checking' } } }));
  const { catalog } = state();
  const sameSize = catalog.kind === 'ready' ? catalog.catalog.files.filter((entry) => entry.component === component && entry.sha256 && entry.bytes === file.size) : [];
  try {
    const report = await engineClient().checkModelFile({ component, source: { file, name: file.name }, hash: sameSize.length > 0 });
    const sameAs = sameSize.find((entry) => entry.sha256 === report.sha256)?.id;
    set(({ localFiles }) => ({ localFiles: { ...localFiles, [component]: { file, status: 'ok', report, ...(sameAs ? { sameAs } : {}) } } }));
  } catch (error) {
    set(({ localFiles }) => ({ localFiles: { ...localFiles, [component]: { file, status: 'refused', error: errorInfo(error) } } }));
  }
  await checkCapabilities();
}

export function forgetLocalFile(component: ModelComponent): void {
  set(({ localFiles }) => {
    const rest = { ...localFiles };
    delete rest[component];
    return { localFiles: rest };
  });
  void checkCapabilities();
}

/**
 * The verdict for every bundle of the catalog. Headers are read where that costs no download:
 * stored files, picked files, and the catalog's tiny test models; the rest is estimated from sizes.
 */
export async function checkCapabilities(): Promise<void> {
  const { catalog, gpuMemoryGiB } = state();
  if (catalog.kind !== 'ready') return;
  set({ capability: { kind: 'checking' } });
  try {
    const verdicts = await engineClient().checkCapabilities({
      bundles: catalog.catalog.bundles.map(capabilityBundle),
      sides: VERDICT_SIDES,
      framesPerBatch: VERDICT_FRAMES_PER_BATCH,
      ...(gpuMemoryGiB ? { gpuMemoryBytes: gpuMemoryGiB * 2 ** 30 } : {}),
    });
    set({ capability: { kind: 'done', verdicts: Object.fromEntries(verdicts.map((verdict) => [verdict.bundleId, verdict])) } });
  } catch (error) {
    set({ capability: { kind: 'failed', error: errorInfo(error) } });
  }
}

function capabilityBundle(bundle: Bundle): CapabilityBundle {
  const { catalog, stored, localFiles } = state();
  const files = {} as CapabilityBundle['files'];
  for (const component of MODEL_COMPONENTS) {
    const entry = catalogFile((catalog as Extract<typeof catalog, { kind: 'ready' }>).catalog, bundle.files[component]);
    const local = localFiles[component];
    const isStored = stored.some((file) => file.fileId === entry.id && file.status === 'ready');
    const source: ModelSource | undefined =
      local?.status === 'ok' && bundle.id === selectedBundle(state())?.id ? { file: local.file, name: local.file.name }
      : isStored ? { stored: entry.id }
      : bundle.noise ? { url: entry.url }
      : undefined;
    files[component] = { bytes: entry.bytes, ...(source ? { source } : {}) };
  }
  return { id: bundle.id, schedule: bundle.schedule, files };
}

function setDownload(fileId: string, view: DownloadView): void {
  set(({ downloads }) => ({ downloads: { ...downloads, [fileId]: view } }));
}

function clearDownload(fileId: string): void {
  set(({ downloads }) => {
    const rest = { ...downloads };
    delete rest[fileId];
    return { downloads: rest };
  });
}
