// The ggml tensor types that occur in FLUX.1 / T5 GGUF files (../shared/spec/flux.md §6.3):
// id as stored in the file, elements per block, bytes per block.

export type GgmlTypeName =
  | 'F32' | 'F16' | 'BF16'
  | 'Q4_0' | 'Q4_1' | 'Q5_0' | 'Q5_1' | 'Q8_0'
  | 'Q2_K' | 'Q3_K' | 'Q4_K' | 'Q5_K' | 'Q6_K';

export interface GgmlType {
  name: GgmlTypeName;
  id: number;
  /** Elements per block (1 for plain floats). */
  blockElements: number;
  /** Bytes per block. */
  blockBytes: number;
  /** K-quants: recognised in files, but not (yet) computed on by the engine. */
  kQuant: boolean;
}

const TYPES: GgmlType[] = [
  { name: 'F32', id: 0, blockElements: 1, blockBytes: 4, kQuant: false },
  { name: 'F16', id: 1, blockElements: 1, blockBytes: 2, kQuant: false },
  { name: 'Q4_0', id: 2, blockElements: 32, blockBytes: 18, kQuant: false },
  { name: 'Q4_1', id: 3, blockElements: 32, blockBytes: 20, kQuant: false },
  { name: 'Q5_0', id: 6, blockElements: 32, blockBytes: 22, kQuant: false },
  { name: 'Q5_1', id: 7, blockElements: 32, blockBytes: 24, kQuant: false },
  { name: 'Q8_0', id: 8, blockElements: 32, blockBytes: 34, kQuant: false },
  { name: 'Q2_K', id: 10, blockElements: 256, blockBytes: 84, kQuant: true },
  { name: 'Q3_K', id: 11, blockElements: 256, blockBytes: 110, kQuant: true },
  { name: 'Q4_K', id: 12, blockElements: 256, blockBytes: 144, kQuant: true },
  { name: 'Q5_K', id: 13, blockElements: 256, blockBytes: 176, kQuant: true },
  { name: 'Q6_K', id: 14, blockElements: 256, blockBytes: 210, kQuant: true },
  { name: 'BF16', id: 30, blockElements: 1, blockBytes: 2, kQuant: false },
];

const BY_ID = new Map(TYPES.map((type) => [type.id, type]));
const BY_NAME = new Map(TYPES.map((type) => [type.name, type]));

export function ggmlTypeById(id: number): GgmlType | undefined {
  return BY_ID.get(id);
}

export function ggmlType(name: GgmlTypeName): GgmlType {
  return BY_NAME.get(name)!;
}

/** Bytes of one row of `elements` values; undefined when the row is not a whole number of blocks. */
export function rowBytes(type: GgmlType, elements: number): number | undefined {
  if (elements % type.blockElements !== 0) return undefined;
  return (elements / type.blockElements) * type.blockBytes;
}
