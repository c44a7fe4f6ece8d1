// Model files checked by their headers before any GPU work: a file that is not the model it
// should be, or is damaged, is refused in seconds, not after the models before it were loaded.

import { fileTensors, openModelFile, type ModelFile } from '../../src/engine/models/model-file';
import { planClipFile } from '../../src/engine/models/clip/checkpoint';
import { planFluxCheckpoint } from '../../src/engine/models/flux/checkpoint';
import type { FluxConfig } from '../../src/engine/models/flux/config';
import { planT5File } from '../../src/engine/models/t5/checkpoint';
import { planVaeCheckpoint } from '../../src/engine/models/vae/checkpoint';
import { nodeFileSource } from '../node-file-source';

async function withHeader<T>(path: string, plan: (file: ModelFile) => T): Promise<T> {
  const file = await openModelFile(await nodeFileSource(path));
  try {
    return plan(file);
  } finally {
    await file.close();
  }
}

/** The FLUX transformer's config, from its header only. */
export const fluxConfigOf = (path: string): Promise<FluxConfig> => withHeader(path, (file) => planFluxCheckpoint(file.name, fileTensors(file)).config);

/** Checks the four model files of a generation; returns the transformer's config. */
export async function checkModelFiles(files: { transformer: string; t5: string; clip: string; vae: string }): Promise<FluxConfig> {
  await withHeader(files.t5, planT5File);
  await withHeader(files.clip, planClipFile);
  await withHeader(files.vae, (file) => planVaeCheckpoint(file.name, fileTensors(file)));
  return fluxConfigOf(files.transformer);
}
