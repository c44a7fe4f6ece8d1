// Tensor names of T5 encoder checkpoints (spec/flux.md §5.5). The llama.cpp names of city96's
// GGUF files are the engine's canonical names; Hugging Face names (T5EncoderModel safetensors,
// bare or under a prefix such as "text_encoders.t5xxl.transformer.") map onto them.

/** Canonical names of one encoder block's tensors by their Hugging Face module path. */
const HF_BLOCK_MODULES: Record<string, string> = {
  'layer.0.SelfAttention.q': 'attn_q',
  'layer.0.SelfAttention.k': 'attn_k',
  'layer.0.SelfAttention.v': 'attn_v',
  'layer.0.SelfAttention.o': 'attn_o',
  'layer.0.SelfAttention.relative_attention_bias': 'attn_rel_b',
  'layer.0.layer_norm': 'attn_norm',
  'layer.1.DenseReluDense.wi_0': 'ffn_gate',
  'layer.1.DenseReluDense.wi_1': 'ffn_up',
  'layer.1.DenseReluDense.wo': 'ffn_down',
  'layer.1.layer_norm': 'ffn_norm',
};

export const T5_TOKEN_EMBEDDING = 'token_embd.weight';
export const T5_OUTPUT_NORM = 'enc.output_norm.weight';

/** Canonical name of a tensor of encoder block `block`, e.g. t5BlockTensor(0, 'attn_q'). */
export function t5BlockTensor(block: number, tensor: string): string {
  return `enc.blk.${block}.${tensor}.weight`;
}

const GGUF_NAME = /^(token_embd|enc\.output_norm|enc\.blk\.\d+\.(attn_[qkvo]|attn_rel_b|attn_norm|ffn_gate|ffn_up|ffn_down|ffn_norm))\.weight$/;
// `shared` and `encoder.embed_tokens` are the same (tied) embedding; files may hold either or both.
const HF_NAME = /(?:^|\.)(shared|encoder\.embed_tokens|encoder\.final_layer_norm|encoder\.block\.(\d+)\.(.+))\.weight$/;

/** The canonical name of a T5 encoder tensor; undefined for tensors that are not part of the encoder. */
export function canonicalT5Name(name: string): string | undefined {
  if (GGUF_NAME.test(name)) return name;
  const match = HF_NAME.exec(name);
  if (!match) return undefined;
  const [, module, block, blockModule] = match;
  if (module === 'shared' || module === 'encoder.embed_tokens') return T5_TOKEN_EMBEDDING;
  if (module === 'encoder.final_layer_norm') return T5_OUTPUT_NORM;
  const tensor = HF_BLOCK_MODULES[blockModule];
  return tensor && t5BlockTensor(Number(block), tensor);
}

/**
 * The Hugging Face name of a canonical tensor (the inverse of canonicalT5Name, built from the
 * same table): used to write Hugging Face-layout test checkpoints.
 */
export function huggingFaceT5Name(canonical: string): string {
  if (canonical === T5_TOKEN_EMBEDDING) return 'shared.weight';
  if (canonical === T5_OUTPUT_NORM) return 'encoder.final_layer_norm.weight';
  const [, block, tensor] = /^enc\.blk\.(\d+)\.(.+)\.weight$/.exec(canonical)!;
  const module = Object.entries(HF_BLOCK_MODULES).find(([, name]) => name === tensor)![0];
  return `encoder.block.${block}.${module}.weight`;
}
