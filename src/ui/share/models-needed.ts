// Which models a shared story needs, and whether this browser has each: stored (downloaded and
// verified), picked as a local file, in the catalog but not downloaded, or unknown here.

import type { ModelRef } from '../../schema/share-link';
import type { ModelsState } from '../models/models-store';

export type ModelAvailability = 'stored' | 'picked' | 'downloadable' | 'unknown';

export interface ModelNeed {
  ref: ModelRef;
  availability: ModelAvailability;
  /** what people read: the shared name, else the catalog's, else the id */
  label: string;
}

const sameContent = (ref: ModelRef, sha256: string | undefined) => !ref.sha256 || !sha256 || ref.sha256 === sha256;

export function modelNeeds(refs: readonly ModelRef[], models: Pick<ModelsState, 'catalog' | 'stored' | 'localFiles'>): ModelNeed[] {
  const catalogFiles = models.catalog.kind === 'ready' ? models.catalog.catalog.files : [];
  return refs.map((ref) => {
    const inCatalog = catalogFiles.find((file) => file.id === ref.id);
    const label = ref.name ?? inCatalog?.name ?? ref.id;
    const stored = models.stored.some((file) => file.fileId === ref.id && file.status === 'ready' && sameContent(ref, file.sha256));
    const local = models.localFiles[ref.component];
    const picked =
      local?.status === 'ok' && (local.sameAs === ref.id || `local:${local.file.name}` === ref.id || (!!ref.sha256 && local.report?.sha256 === ref.sha256));
    const availability: ModelAvailability = stored ? 'stored' : picked ? 'picked' : inCatalog ? 'downloadable' : 'unknown';
    return { ref, availability, label };
  });
}

export const AVAILABILITY_WORDS: Record<ModelAvailability, string> = {
  stored: 'stored in this browser',
  picked: 'picked from your files',
  downloadable: 'not downloaded yet: download it in Models',
  unknown: "not in this app's catalog: pick the file in Models",
};
