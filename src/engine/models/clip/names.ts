// Tensor names of CLIP-L text encoder checkpoints (spec/flux.md §4.2): Hugging Face's
// CLIPTextModel names, which the comfy/FLUX clip_l.safetensors uses too, possibly under a prefix
// ("text_encoders.clip_l.transformer.", "cond_stage_model.transformer."…). The names without the
// prefix are the engine's canonical names.

export const CLIP_TOKEN_EMBEDDING = 'text_model.embeddings.token_embedding.weight';
export const CLIP_POSITION_EMBEDDING = 'text_model.embeddings.position_embedding.weight';

/** Canonical name of a parameter of encoder layer `layer`, e.g. clipLayerTensor(0, 'mlp.fc1', 'bias'). */
export function clipLayerTensor(layer: number, module: string, parameter: 'weight' | 'bias'): string {
  return `text_model.encoder.layers.${layer}.${module}.${parameter}`;
}

export function clipFinalNorm(parameter: 'weight' | 'bias'): string {
  return `text_model.final_layer_norm.${parameter}`;
}

// Leaves out what is not part of the text encoder's forward pass: position_ids (an int64 buffer
// in some files), text_projection, logit_scale, the vision tower.
const CANONICAL = new RegExp(
  '(?:^|\\.)(text_model\\.(embeddings\\.(token|position)_embedding\\.weight' +
    '|encoder\\.layers\\.\\d+\\.(self_attn\\.(q|k|v|out)_proj|layer_norm[12]|mlp\\.fc[12])\\.(weight|bias)' +
    '|final_layer_norm\\.(weight|bias)))$',
);

/** The canonical name of a CLIP text encoder tensor; undefined for tensors the encoder does not use. */
export function canonicalClipName(name: string): string | undefined {
  return CANONICAL.exec(name)?.[1];
}
