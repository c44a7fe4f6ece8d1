// Packing of WGSL uniform parameter blocks. Every field is 4 bytes, in declaration order, so a
// block is a list of tagged scalars: params(u32(count), f32(alpha)).

export type ParamField = { kind: 'u32' | 'i32' | 'f32'; value: number };

export const u32 = (value: number): ParamField => ({ kind: 'u32', value });
export const i32 = (value: number): ParamField => ({ kind: 'i32', value });
export const f32 = (value: number): ParamField => ({ kind: 'f32', value });

export function params(...fields: ParamField[]): Uint32Array {
  const block = new Uint32Array(Math.max(4, Math.ceil(fields.length / 4) * 4));
  const view = new DataView(block.buffer);
  fields.forEach(({ kind, value }, i) => {
    if (kind === 'f32') view.setFloat32(4 * i, value, true);
    else if (kind === 'i32') view.setInt32(4 * i, value, true);
    else view.setUint32(4 * i, value, true);
  });
  return block;
}
