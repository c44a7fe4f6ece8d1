import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobSource, bytesSource, streamSource, type ByteSource } from '../../src/engine/formats/byte-source';
import { ggmlType, type GgmlTypeName } from '../../src/engine/formats/ggml-types';
import { readGguf, type GgufFile } from '../../src/engine/formats/gguf';
import type { GgufValue } from '../../src/engine/formats/gguf-values';
import { encodeGguf, type GgufTensorInput } from '../../src/engine/formats/gguf-writer';
import { httpRangeSource, responseSource } from '../../src/engine/formats/http-sources';
import { nodeFileSource, writeFileParts } from '../../tools/node-file-source';
import { freshSeed, randomArray, randomInt } from '../helpers/random';
import {
  chunkedStream,
  collectChunks,
  concatParts,
  expectEngineError,
  randomBytes,
  rangeServer,
  RawBytes,
  REDOWNLOAD_ACTION,
} from './format-fixtures';

const ALL_TYPES: GgmlTypeName[] = ['F32', 'F16', 'BF16', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K'];

/** Metadata with every value type, arrays of each, an empty array and nested arrays. */
function everyValueType(seed: number): [string, GgufValue][] {
  const int = (lo: number, hi: number) => randomInt(seed, lo, hi);
  const floats = randomArray(seed, 5, -1e6, 1e6);
  return [
    ['general.architecture', { type: 'string', value: 'flux' }],
    ['test.u8', { type: 'u8', value: int(0, 255) }],
    ['test.i8', { type: 'i8', value: int(-128, 127) }],
    ['test.u16', { type: 'u16', value: int(0, 65535) }],
    ['test.i16', { type: 'i16', value: int(-32768, 32767) }],
    ['test.u32', { type: 'u32', value: 4294967295 }],
    ['test.i32', { type: 'i32', value: int(-2147483648, -1) }],
    ['test.f32', { type: 'f32', value: floats[0] }],
    ['test.f64', { type: 'f64', value: floats[1] / 3 }],
    ['test.bool', { type: 'bool', value: true }],
    ['test.u64', { type: 'u64', value: 2n ** 64n - 1n }],
    ['test.i64', { type: 'i64', value: -(2n ** 63n) }],
    ['test.string', { type: 'string', value: 'Äpfel 🍎 "quoted"\n' }],
    ['arrays.u8', { type: 'array', elementType: 'u8', values: Uint8Array.of(0, 255, int(0, 255)) }],
    ['arrays.i8', { type: 'array', elementType: 'i8', values: Int8Array.of(-128, 127) }],
    ['arrays.u16', { type: 'array', elementType: 'u16', values: Uint16Array.of(int(0, 65535)) }],
    ['arrays.i16', { type: 'array', elementType: 'i16', values: Int16Array.of(-32768, int(0, 32767)) }],
    ['arrays.u32', { type: 'array', elementType: 'u32', values: Uint32Array.of(1, 4294967295) }],
    ['arrays.i32', { type: 'array', elementType: 'i32', values: Int32Array.of(int(-1000, 1000), -2147483648) }],
    ['arrays.f32', { type: 'array', elementType: 'f32', values: Float32Array.from(floats) }],
    ['arrays.f64', { type: 'array', elementType: 'f64', values: Float64Array.of(Math.PI, -0, Infinity) }],
    ['arrays.u64', { type: 'array', elementType: 'u64', values: BigUint64Array.of(0n, 2n ** 64n - 1n) }],
    ['arrays.i64', { type: 'array', elementType: 'i64', values: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n) }],
    ['arrays.bool', { type: 'array', elementType: 'bool', values: [true, false, false] }],
    ['arrays.string', { type: 'array', elementType: 'string', values: ['a', '', 'über'] }],
    ['arrays.empty', { type: 'array', elementType: 'f32', values: new Float32Array(0) }],
    [
      'arrays.nested',
      {
        type: 'array',
        elementType: 'array',
        values: [
          { type: 'array', elementType: 'i32', values: Int32Array.of(1, -2) },
          { type: 'array', elementType: 'string', values: ['x'] },
          { type: 'array', elementType: 'array', values: [{ type: 'array', elementType: 'u8', values: Uint8Array.of(7) }] },
        ],
      },
    ],
  ];
}

/** One tensor of each ggml type with a random shape (ne[0] whole blocks) and random bytes. */
function tensorOfEachType(seed: number): GgufTensorInput[] {
  return ALL_TYPES.map((name, i) => {
    const type = ggmlType(name);
    const ne = [type.blockElements * randomInt(seed, 1, 3), randomInt(seed, 1, 5)];
    if (i % 3 === 0) ne.push(randomInt(seed, 1, 3));
    const rows = ne.slice(1).reduce((a, b) => a * b, 1);
    return { name: `blocks.${i}.${name.toLowerCase()}.weight`, ne, type: name, bytes: randomBytes(seed, (ne[0] / type.blockElements) * type.blockBytes * rows) };
  });
}

async function expectSameFile(file: GgufFile, metadata: [string, GgufValue][], tensors: GgufTensorInput[]): Promise<void> {
  expect([...file.metadata]).toEqual(metadata);
  expect(file.tensors.map((t) => ({ name: t.name, ne: t.ne, type: t.type.name }))).toEqual(
    tensors.map((t) => ({ name: t.name, ne: t.ne, type: t.type })),
  );
  for (const tensor of tensors) expect(await file.readTensor(tensor.name)).toEqual(tensor.bytes);
}

describe('GGUF writer layout (spec §6.1, observed from gguf-py)', () => {
  it('writes a Q4_0 [4x64] + F32 [3] file as gguf-py does: 24-byte header, offsets 0 and 160, data at 288, 480 bytes', () => {
    const seed = freshSeed('gguf layout');
    // Names of 36 + 34 bytes: the tensor infos end at byte 287, so the data section starts at 288.
    const weight = randomBytes(seed, 144);
    const bias = new Uint8Array(new Float32Array(randomArray(seed, 3)).buffer);
    const parts = encodeGguf({
      metadata: [
        ['general.architecture', { type: 'string', value: 'flux' }],
        ['general.quantization_version', { type: 'u32', value: 2 }],
        ['general.file_type', { type: 'u32', value: 2 }],
      ],
      tensors: [
        { name: 'double_blocks.0.img_attn.proj.weight', ne: [64, 4], type: 'Q4_0', bytes: weight },
        { name: 'double_blocks.0.img_attn.proj.bias', ne: [3], type: 'F32', bytes: bias },
      ],
    });
    const file = concatParts(parts);
    const view = new DataView(file.buffer);
    expect(file.length).toBe(480);
    expect(new TextDecoder().decode(file.subarray(0, 4))).toBe('GGUF');
    expect([view.getUint32(4, true), view.getBigUint64(8, true), view.getBigUint64(16, true)]).toEqual([3, 2n, 3n]);
    // The first KV starts right after the 24-byte header.
    expect(view.getBigUint64(24, true)).toBe(20n);
    expect(new TextDecoder().decode(file.subarray(32, 52))).toBe('general.architecture');

    // Walk the three KVs (string, u32, u32) and the two tensor infos by hand.
    let at = 24;
    const string = () => {
      const length = Number(view.getBigUint64(at, true));
      const text = new TextDecoder().decode(file.subarray(at + 8, at + 8 + length));
      at += 8 + length;
      return text;
    };
    const u32 = () => ((at += 4), view.getUint32(at - 4, true));
    const u64 = () => ((at += 8), view.getBigUint64(at - 8, true));
    expect([string(), u32(), string()]).toEqual(['general.architecture', 8, 'flux']);
    expect([string(), u32(), u32()]).toEqual(['general.quantization_version', 4, 2]);
    expect([string(), u32(), u32()]).toEqual(['general.file_type', 4, 2]);
    expect([string(), u32(), u64(), u64(), u32(), u64()]).toEqual(['double_blocks.0.img_attn.proj.weight', 2, 64n, 4n, 2, 0n]);
    expect([string(), u32(), u64(), u32(), u64()]).toEqual(['double_blocks.0.img_attn.proj.bias', 1, 3n, 0, 160n]);
    expect(at).toBe(287);
    expect(file.subarray(287, 288)).toEqual(new Uint8Array(1));
    expect(file.subarray(288, 432)).toEqual(weight);
    expect(file.subarray(432, 448)).toEqual(new Uint8Array(16));
    expect(file.subarray(448, 460)).toEqual(bias);
    expect(file.subarray(460, 480)).toEqual(new Uint8Array(20));
  });

  it('aligns tensors to a custom general.alignment', async () => {
    const seed = freshSeed('gguf alignment');
    const tensors = tensorOfEachType(seed).slice(0, 4);
    const metadata: [string, GgufValue][] = [['general.alignment', { type: 'u32', value: 256 }]];
    const file = await readGguf(bytesSource(concatParts(encodeGguf({ metadata, tensors }))));
    expect(file.alignment).toBe(256);
    expect(file.dataStart % 256).toBe(0);
    for (const tensor of file.tensors) expect((tensor.offset - file.dataStart) % 256).toBe(0);
    await expectSameFile(file, metadata, tensors);
  });

  it('refuses to write inconsistent tensors and metadata', async () => {
    const q4 = { name: 'w', ne: [32, 2], type: 'Q4_0' as const, bytes: new Uint8Array(36) };
    const write = (input: Parameters<typeof encodeGguf>[0]) => Promise.resolve().then(() => encodeGguf(input));
    await expectEngineError(write({ metadata: [], tensors: [{ ...q4, bytes: new Uint8Array(35) }] }), /has 35 bytes, its shape needs 36/, 'invalid-input');
    await expectEngineError(write({ metadata: [], tensors: [{ ...q4, ne: [48, 2] }] }), /not a multiple of the Q4_0 block size/, 'invalid-input');
    await expectEngineError(write({ metadata: [], tensors: [q4, q4] }), /tensor name "w" appears twice/, 'invalid-input');
    await expectEngineError(write({ metadata: [['k', { type: 'u8', value: 256 }]], tensors: [] }), /256 is not a valid u8/, 'invalid-input');
    await expectEngineError(write({ metadata: [['general.alignment', { type: 'u32', value: 24 }]], tensors: [] }), /power of two/, 'invalid-input');
  });
});

describe('GGUF round trip', () => {
  it('reads back every metadata value type and every tensor type, from every kind of source', async () => {
    const seed = freshSeed('gguf round trip');
    const metadata = everyValueType(seed);
    const tensors = tensorOfEachType(seed);
    const parts = encodeGguf({ metadata, tensors });
    const bytes = concatParts(parts);
    const directory = await mkdtemp(path.join(tmpdir(), 'gguf-'));
    try {
      const filePath = path.join(directory, 'model.gguf');
      await writeFileParts(filePath, parts);
      const sources: ByteSource[] = [
        bytesSource(bytes),
        blobSource(new Blob(parts as BlobPart[])),
        chunkedStream(bytes, seed),
        chunkedStream(bytes, seed, { knownSize: false, maxPiece: 5 }),
        await httpRangeSource('https://example.test/model.gguf', rangeServer(bytes)),
        responseSource(new Response(new Blob(parts as BlobPart[]).stream(), { headers: { 'content-length': String(bytes.length) } }), 'model.gguf'),
        await nodeFileSource(filePath),
      ];
      for (const source of sources) {
        const file = await readGguf(source);
        expect(file.version).toBe(3);
        await expectSameFile(file, metadata, tensors);
        await file.close();
      }
    } finally {
      await rm(directory, { recursive: true });
    }
  });

  it('reports K-quant tensors with their type, leaving the refusal to the loader', async () => {
    const seed = freshSeed('gguf k-quants');
    const file = await readGguf(bytesSource(concatParts(encodeGguf({ metadata: [], tensors: tensorOfEachType(seed) }))));
    const kQuants = file.tensors.filter((tensor) => tensor.type.kQuant).map((tensor) => tensor.type.name);
    expect(kQuants).toEqual(['Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K']);
  });

  it('accepts version 2, which has the same layout', async () => {
    const bytes = concatParts(encodeGguf({ metadata: [['a', { type: 'u8', value: 1 }]], tensors: [] }));
    new DataView(bytes.buffer).setUint32(4, 2, true);
    const file = await readGguf(bytesSource(bytes));
    expect(file.version).toBe(2);
    expect(file.metadata.get('a')).toEqual({ type: 'u8', value: 1 });
  });
});

describe('GGUF streaming', () => {
  it('gives identical chunks of whole rows from a sequential stream of random pieces and from random access', async () => {
    const seed = freshSeed('gguf streaming');
    const tensors = tensorOfEachType(seed);
    const bytes = concatParts(encodeGguf({ metadata: everyValueType(seed), tensors }));
    const chunkBytes = randomInt(seed, 1, 300);
    const randomAccess = await collectChunks(await readGguf(bytesSource(bytes)), undefined, chunkBytes);
    const sequential = await collectChunks(await readGguf(chunkedStream(bytes, seed, { knownSize: false, maxPiece: 40 })), undefined, chunkBytes);
    expect(sequential).toEqual(randomAccess);
    for (const tensor of tensors) {
      const chunks = randomAccess.filter((chunk) => chunk.name === tensor.name);
      const rowBytes = ggmlType(tensor.type).blockBytes * (tensor.ne[0] / ggmlType(tensor.type).blockElements);
      let begin = 0;
      for (const chunk of chunks) {
        expect(chunk.begin).toBe(begin);
        expect(chunk.bytes.length % rowBytes).toBe(0);
        expect(chunk.bytes.length).toBeLessThanOrEqual(Math.max(rowBytes, chunkBytes));
        expect(chunk.bytes).toEqual(tensor.bytes.subarray(begin, begin + chunk.bytes.length));
        begin += chunk.bytes.length;
      }
      expect(begin).toBe(tensor.bytes.length);
    }
  });

  it('streams a chosen subset in file order, and refuses to go back on a one-pass stream', async () => {
    const seed = freshSeed('gguf subset');
    const tensors = tensorOfEachType(seed);
    const bytes = concatParts(encodeGguf({ metadata: [], tensors }));
    const file = await readGguf(chunkedStream(bytes, seed));
    const wanted = [tensors[7].name, tensors[2].name, tensors[9].name];
    const chunks = await collectChunks(file, wanted);
    expect([...new Set(chunks.map((chunk) => chunk.name))]).toEqual([tensors[2].name, tensors[7].name, tensors[9].name]);
    expect(await file.readTensor(tensors[11].name)).toEqual(tensors[11].bytes);
    await expectEngineError(file.readTensor(tensors[3].name), /already gone by/, 'internal');
    await expectEngineError(file.readTensor('no.such.tensor'), /no tensor named "no.such.tensor"/);
  });
});

// ---- malformed files, built byte by byte without the writer ----

interface RawTensorInfo {
  name: string;
  ne: (number | bigint)[];
  type: number;
  offset: number | bigint;
}

interface RawGguf {
  magic?: string;
  version?: number;
  tensorCount?: bigint;
  kvCount?: bigint;
  /** Each writes one whole KV. */
  entries?: ((out: RawBytes) => void)[];
  tensors?: RawTensorInfo[];
  alignment?: number;
  /** bytes in the data section */
  dataBytes?: number;
}

const kv = (key: string, type: number, value: (out: RawBytes) => void) => (out: RawBytes) => value(out.str(key).u32(type));
const architecture = kv('general.architecture', 8, (out) => out.str('flux'));
/** A valid Q8_0 tensor of two rows (68 bytes). */
const q8 = (name: string, offset: number | bigint = 0): RawTensorInfo => ({ name, ne: [32, 2], type: 8, offset });

function rawGguf(spec: RawGguf): Uint8Array {
  const entries = spec.entries ?? [architecture];
  const tensors = spec.tensors ?? [];
  const out = new RawBytes().text(spec.magic ?? 'GGUF').u32(spec.version ?? 3);
  out.u64(spec.tensorCount ?? BigInt(tensors.length)).u64(spec.kvCount ?? BigInt(entries.length));
  for (const entry of entries) entry(out);
  for (const tensor of tensors) {
    out.str(tensor.name).u32(tensor.ne.length);
    for (const dim of tensor.ne) out.u64(dim);
    out.u32(tensor.type).u64(tensor.offset);
  }
  return out.padTo(spec.alignment ?? 32).zeros(spec.dataBytes ?? 68 * tensors.length).build();
}

const read = (bytes: Uint8Array) => readGguf(bytesSource(bytes, 'bad.gguf'));
const nested = (depth: number): ((out: RawBytes) => void) => (out) => {
  if (depth === 0) return void out.u32(0).u64(0);
  out.u32(9).u64(1);
  nested(depth - 1)(out);
};

const MALFORMED: [string, () => Uint8Array, RegExp][] = [
  ['wrong magic', () => rawGguf({ magic: 'GGML' }), /header: this is not a GGUF file: it starts with 47 47 4d 4c/],
  ['version 1', () => rawGguf({ version: 1 }), /header: GGUF version 1 .* is obsolete/],
  ['version 4', () => rawGguf({ version: 4 }), /GGUF version 4 is not supported/],
  ['big-endian file', () => rawGguf({ version: 0x03000000 }), /big-endian/],
  ['truncated header', () => rawGguf({}).subarray(0, 13), /header: the file ends at byte 13, but this part extends to byte 24/],
  ['absurd tensor_count', () => rawGguf({ tensorCount: 2n ** 40n }), /header: tensor_count is 1099511627776, but only \d+ bytes remain before the 64.0 MiB/],
  ['absurd kv_count', () => rawGguf({ kvCount: 2n ** 62n }), /header: kv_count is 4611686018427387904/],
  ['absurd key length', () => rawGguf({ entries: [(out) => out.u64(2n ** 63n).text('key')] }), /metadata entry 0: the length of the key is 9223372036854775808/],
  ['absurd string length', () => rawGguf({ entries: [kv('name', 8, (out) => out.u64(1e12))] }), /metadata entry 0 \("name"\): the length of a string value is 1000000000000/],
  ['absurd array length', () => rawGguf({ entries: [kv('list', 9, (out) => out.u32(6).u64(2n ** 61n))] }), /metadata entry 0 \("list"\): an array length is 2305843009213693952/],
  ['unknown value type', () => rawGguf({ entries: [kv('odd', 13, (out) => out.u32(0))] }), /"odd"\): unknown metadata value type 13/],
  ['unknown array element type', () => rawGguf({ entries: [kv('odd', 9, (out) => out.u32(99).u64(1))] }), /unknown metadata value type 99/],
  ['arrays nested 17 deep', () => rawGguf({ entries: [kv('deep', 9, nested(17))] }), /"deep"\): arrays are nested more than 16 deep/],
  ['duplicate metadata key', () => rawGguf({ entries: [architecture, architecture] }), /metadata entry 1 \("general.architecture"\): this key appears twice/],
  ['alignment not a power of two', () => rawGguf({ entries: [kv('general.alignment', 4, (out) => out.u32(48))] }), /general.alignment.*must be a u32 power of two, but is u32 48/],
  ['alignment of the wrong type', () => rawGguf({ entries: [kv('general.alignment', 10, (out) => out.u64(32))] }), /must be a u32 power of two, but is u64 32/],
  ['key not UTF-8', () => rawGguf({ entries: [(out) => out.u64(2).raw([0xc3, 0x28]).u32(0).u8(1)] }), /metadata entry 0: the key is not valid UTF-8/],
  ['n_dims 5', () => rawGguf({ tensors: [{ ...q8('w'), ne: [32, 1, 1, 1, 2] }] }), /tensor info 0 \("w"\): n_dims is 5, at most 4/],
  ['zero dimension', () => rawGguf({ tensors: [{ ...q8('w'), ne: [32, 0] }] }), /"w"\): ne = \[32, 0\] has a dimension of 0/],
  ['negative dimension', () => rawGguf({ tensors: [{ ...q8('w'), ne: [32, 2n ** 64n - 2n] }] }), /negative dimension/],
  ['overflowing element count', () => rawGguf({ tensors: [{ ...q8('w'), ne: [2 ** 32, 2 ** 32] }] }), /has 18446744073709551616 elements/],
  ['unknown ggml type', () => rawGguf({ tensors: [{ ...q8('w'), type: 99 }] }), /"w"\): unknown ggml type 99/],
  ['ne0 not whole blocks', () => rawGguf({ tensors: [{ ...q8('w'), ne: [48, 2] }] }), /ne\[0\] = 48 is not a multiple of the Q8_0 block size 32/],
  ['a quantized tensor without dimensions', () => rawGguf({ tensors: [{ ...q8('w'), ne: [] }] }), /"w"\): a tensor without dimensions \(one value\) is not a multiple of the Q8_0 block size 32/],
  ['empty tensor name', () => rawGguf({ tensors: [q8('')] }), /tensor info 0 \(""\): the tensor name is empty/],
  ['duplicate tensor names', () => rawGguf({ tensors: [q8('w'), q8('w', 96)] }), /tensor info 1 \("w"\): an earlier tensor has the same name/],
  ['offset not aligned', () => rawGguf({ tensors: [q8('w', 16)] }), /"w"\): the offset 16 is not a multiple of the alignment 32/],
  ['offset past the end', () => rawGguf({ tensors: [q8('w', 2n ** 40n)] }), /"w"\): the tensor's data starts at byte \d+, past the end of the file/],
  ['offset beyond any file', () => rawGguf({ tensors: [q8('w', 2n ** 60n)] }), /"w"\): the offset 1152921504606846976 lies beyond the end of any file/],
  ['last tensor cut short', () => rawGguf({ tensors: [q8('a'), q8('b', 96)], dataBytes: 160 }), /"b"\): the tensor's data ends at byte \d+, past the end/],
  ['overlapping tensors', () => rawGguf({ tensors: [q8('a'), q8('b', 32)], dataBytes: 100 }), /tensor info 1 \("b"\): the tensor's data overlaps that of tensor "a"/],
];

describe('GGUF malformed files', () => {
  it.each(MALFORMED)('%s: a typed error naming the section', async (_case, build, message) => {
    await expectEngineError(read(build()), message);
  });

  it('caps counts against the header limit on a stream of unknown length', async () => {
    const seed = freshSeed('gguf stream caps');
    const stream = (bytes: Uint8Array) => readGguf(chunkedStream(bytes, seed, { knownSize: false }));
    await expectEngineError(stream(rawGguf({ kvCount: 2n ** 40n })), /kv_count is 1099511627776, but only \d+ bytes remain before the 64.0 MiB this app allows/);
    await expectEngineError(stream(rawGguf({ entries: [kv('name', 8, (out) => out.u64(2n ** 50n))] })), /64.0 MiB this app allows/);
  });

  it('reports a stream that ends early as incomplete rather than waiting', async () => {
    const empty = new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
    const error = await expectEngineError(readGguf(streamSource(empty, 'empty.gguf')), /empty.gguf, header: the file ends at byte 0/);
    expect(error.action).toMatch(REDOWNLOAD_ACTION);
  });
});

describe('GGUF truncated at every byte', () => {
  // Two KVs, two tensors (F16 [4, 3] = 24 bytes at 0, Q8_0 [32, 2] = 68 bytes at 32), every
  // section boundary recorded while building, so each cut has a known section to report.
  function sectionedFile(): { bytes: Uint8Array; sectionAt: (byte: number) => RegExp | undefined } {
    const out = new RawBytes().text('GGUF').u32(3).u64(2).u64(2);
    const ends: [number, RegExp | undefined][] = [[out.length, /header/]];
    out.str('general.architecture').u32(8).str('flux');
    ends.push([out.length, /metadata entry 0/]);
    out.str('tokens').u32(9).u32(8).u64(2).str('a').str('bc');
    ends.push([out.length, /metadata entry 1/]);
    out.str('first.weight').u32(2).u64(4).u64(3).u32(1).u64(0);
    ends.push([out.length, /tensor info 0/]);
    out.str('second.weight').u32(2).u64(32).u64(2).u32(8).u64(32);
    ends.push([out.length, /tensor info 1/]);
    out.padTo(32);
    ends.push([out.length, /padding before the data section/]);
    out.raw(Array.from({ length: 24 }, (_, i) => i + 1));
    ends.push([out.length, /"first.weight"/]);
    out.padTo(32).raw(Array.from({ length: 68 }, (_, i) => 200 - i));
    ends.push([out.length, /"second.weight"/]);
    out.padTo(32);
    return { bytes: out.build(), sectionAt: (byte) => ends.find(([end]) => byte < end)?.[1] };
  }

  it('names the section cut off, for random access and for streams of known and unknown length', async () => {
    const seed = freshSeed('gguf truncation');
    const { bytes, sectionAt } = sectionedFile();
    const readAll = async (source: ByteSource) => collectChunks(await readGguf(source));
    const whole = await readAll(bytesSource(bytes));
    expect(whole.map((chunk) => chunk.name)).toEqual(['first.weight', 'second.weight']);
    for (let length = 0; length < bytes.length; length++) {
      const cut = bytes.slice(0, length);
      const section = sectionAt(length);
      const sources = [bytesSource(cut), chunkedStream(cut, seed), chunkedStream(cut, seed, { knownSize: false })];
      for (const source of sources) {
        if (section === undefined) {
          // Only the padding after the last tensor is missing: every tensor is complete.
          expect(await readAll(source)).toEqual(whole);
          continue;
        }
        const error = await expectEngineError(readAll(source), section);
        expect(error.action).toMatch(REDOWNLOAD_ACTION);
      }
    }
  });
});
