// What a model file is, from its header alone: the same readers and checkpoint planners the
// loaders use (GGUF/safetensors parse, tensor names, shapes, types), so a file the engine would
// refuse at load time is refused before its data is downloaded (K-quants, missing tensors, the
// wrong model for the component). Also lists the tensors as the loaders place them on the GPU,
// for the memory estimate.

import type { ModelComponent, ModelFileReport } from '../../engine-api';
import type { RandomAccessSource } from '../formats/byte-source';
import type { GgmlTypeName } from '../formats/ggml-types';
import { planClipFile } from '../models/clip/checkpoint';
import type { ClipConfig } from '../models/clip/config';
import { CLIP_POSITION_EMBEDDING } from '../models/clip/names';
import { planFluxCheckpoint } from '../models/flux/checkpoint';
import type { FluxConfig } from '../models/flux/config';
import { fileTensors, openModelFile, type ModelFile } from '../models/model-file';
import { planT5File } from '../models/t5/checkpoint';
import type { T5Config } from '../models/t5/config';
import { planVaeCheckpoint } from '../models/vae/checkpoint';
import type { VaeDecoderConfig } from '../models/vae/config';

/**
 * A tensor as the loaders hold it: `matrix` a GpuWeight [rows, cols] in its file type, `vector`
 * f32 on the GPU, `host` only in CPU memory (T5's relative-attention bias).
 */
export interface PlacedTensor {
  name: string;
  shape: readonly number[];
  type: GgmlTypeName;
  placement: 'matrix' | 'vector' | 'host';
}

export type ComponentConfig =
  | { component: 'transformer'; config: FluxConfig }
  | { component: 't5'; config: T5Config }
  | { component: 'clip'; config: ClipConfig }
  | { component: 'vae'; config: VaeDecoderConfig };

export type ModelHeader = ComponentConfig & {
  name: string;
  /** bytes of the whole file */
  bytes: number;
  tensors: PlacedTensor[];
};

/** Reads the header of `source` and plans it as `component`; a typed 'model-file' error says why not. */
export async function readModelHeader(component: ModelComponent, source: RandomAccessSource): Promise<ModelHeader> {
  const file = await openModelFile(source);
  try {
    return { ...planned(component, file), name: source.name, bytes: source.size };
  } finally {
    await file.close();
  }
}

function planned(component: ModelComponent, file: ModelFile): ComponentConfig & { tensors: PlacedTensor[] } {
  switch (component) {
    case 'transformer': {
      const plan = planFluxCheckpoint(file.name, fileTensors(file));
      return { component, config: plan.config, tensors: [...plan.tensors.values()].map((tensor) => placed(tensor.name, tensor.shape, tensor.type)) };
    }
    case 't5': {
      const plan = planT5File(file);
      // The relative-attention bias only feeds the position-bias table computed on the CPU.
      return { component, config: plan.config, tensors: [...plan.tensors].map(([canonical, t]) => placed(t.name, t.shape, t.type, canonical.endsWith('.attn_rel_b.weight') ? 'host' : undefined)) };
    }
    case 'clip': {
      const plan = planClipFile(file);
      // The position table is added on the GPU as f32.
      return { component, config: plan.config, tensors: [...plan.tensors].map(([canonical, t]) => placed(t.name, t.shape, t.type, canonical === CLIP_POSITION_EMBEDDING ? 'vector' : undefined)) };
    }
    case 'vae': {
      const plan = planVaeCheckpoint(file.name, fileTensors(file));
      return { component, config: plan.config, tensors: [...plan.tensors.values()].map((t) => placed(t.name, t.shape, t.type)) };
    }
  }
}

function placed(name: string, shape: readonly number[], type: GgmlTypeName, placement?: PlacedTensor['placement']): PlacedTensor {
  return { name, shape, type, placement: placement ?? (shape.length === 1 ? 'vector' : 'matrix') };
}

/** What people read about an accepted file. */
export function headerReport(header: ModelHeader): ModelFileReport {
  const types = [...new Set(header.tensors.filter((t) => t.placement !== 'host').map((t) => t.type))].join(', ');
  const report: ModelFileReport = { component: header.component, name: header.name, bytes: header.bytes, summary: `${describe(header)}; ${types}` };
  if (header.component === 'transformer') report.variant = variantOf(header.config);
  return report;
}

export function variantOf(config: FluxConfig): 'dev' | 'schnell' {
  return config.guidance ? 'dev' : 'schnell';
}

function describe(header: ComponentConfig): string {
  switch (header.component) {
    case 'transformer':
      return `FLUX.1 [${variantOf(header.config)}] transformer: ${header.config.doubleBlocks} double + ${header.config.singleBlocks} single blocks, hidden ${header.config.hidden}`;
    case 't5':
      return `T5 encoder: ${header.config.layers} layers, width ${header.config.dModel}`;
    case 'clip':
      return `CLIP text encoder: ${header.config.layers} layers, width ${header.config.hidden}`;
    case 'vae':
      return `VAE decoder: ${header.config.channels} base channels`;
  }
}
