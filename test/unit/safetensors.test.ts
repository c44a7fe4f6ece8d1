import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobSource, bytesSource, type ByteSource } from '../../src/engine/formats/byte-source';
import { httpRangeSource, responseSource } from '../../src/engine/formats/http-sources';
import { readSafetensors, type SafetensorsFile } from '../../src/engine/formats/safetensors';
import { encodeSafetensors, type SafetensorsTensorInput } from '../../src/engine/formats/safetensors-writer';
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

const BYTES_PER_ELEMENT = { F32: 4, F16: 2, BF16: 2 } as const;

/** F32, F16 and BF16 tensors of random shapes (a scalar and an empty tensor among them). */
function randomTensors(seed: number): SafetensorsTensorInput[] {
  const shapes = [[randomInt(seed, 1, 9), randomInt(seed, 1, 9)], [randomInt(seed, 1, 40)], [], [2, 0, 3], [randomInt(seed, 1, 4), 3, randomInt(seed, 1, 5)]];
  const dtypes = ['F32', 'F16', 'BF16'] as const;
  return shapes.map((shape, i) => {
    const dtype = dtypes[i % 3];
    const elements = shape.reduce((a, b) => a * b, 1);
    return { name: `layer.${i}.weight`, dtype, shape, bytes: randomBytes(seed, elements * BYTES_PER_ELEMENT[dtype]) };
  });
}

async function expectSameFile(file: SafetensorsFile, tensors: SafetensorsTensorInput[], metadata: Record<string, string>): Promise<void> {
  expect(file.metadata).toEqual(metadata);
  expect(file.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape }))).toEqual(
    tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
  );
  for (const tensor of tensors) expect(await file.readTensor(tensor.name)).toEqual(tensor.bytes);
}

describe('safetensors writer', () => {
  // Byte strings from the reference implementation's own serialization tests: F32 [1, 2, 3]
  // holding 0..5, once with a 64-byte header (no padding), once padded with 7 spaces to 72.
  it.each([
    ['attn.0', [1, 2, 3], 64, ''],
    ['attn0', [1, 1, 2, 3], 72, '       '],
  ])('writes %s exactly as the reference implementation does', (name, shape, headerLength, padding) => {
    const values = Float32Array.of(0, 1, 2, 3, 4, 5);
    const parts = encodeSafetensors([{ name, dtype: 'F32', shape, bytes: new Uint8Array(values.buffer) }]);
    const json = `{"${name}":{"dtype":"F32","shape":[${shape.join(',')}],"data_offsets":[0,24]}}${padding}`;
    const expected = new RawBytes().u64(headerLength).text(json).raw(new Uint8Array(values.buffer)).build();
    expect(concatParts(parts)).toEqual(expected);
  });

  it('refuses tensors whose bytes do not match their shape, and duplicate names', async () => {
    const write = (tensors: SafetensorsTensorInput[], metadata?: Record<string, string>) => Promise.resolve().then(() => encodeSafetensors(tensors, metadata));
    const tensor: SafetensorsTensorInput = { name: 'x', dtype: 'F16', shape: [3], bytes: new Uint8Array(6) };
    await expectEngineError(write([{ ...tensor, bytes: new Uint8Array(8) }]), /has 8 bytes, its dtype and shape need 6/, 'invalid-input');
    await expectEngineError(write([tensor, tensor]), /"x".*the name is taken/, 'invalid-input');
    await expectEngineError(write([{ ...tensor, name: '__metadata__' }], {}), /the name is taken/, 'invalid-input');
  });
});

describe('safetensors round trip', () => {
  it('reads back tensors and metadata from every kind of source', async () => {
    const seed = freshSeed('safetensors round trip');
    const tensors = randomTensors(seed);
    const metadata = { format: 'pt', note: `seed ${seed} — ünïcode` };
    const parts = encodeSafetensors(tensors, metadata);
    const bytes = concatParts(parts);
    const directory = await mkdtemp(path.join(tmpdir(), 'safetensors-'));
    try {
      const filePath = path.join(directory, 'model.safetensors');
      await writeFileParts(filePath, parts);
      const sources: ByteSource[] = [
        bytesSource(bytes),
        blobSource(new Blob(parts as BlobPart[])),
        chunkedStream(bytes, seed),
        chunkedStream(bytes, seed, { knownSize: false, maxPiece: 3 }),
        await httpRangeSource('https://example.test/model.safetensors', rangeServer(bytes)),
        await httpRangeSource('https://example.test/model.safetensors', rangeServer(bytes, 'hidden-content-range')),
        responseSource(new Response(new Blob(parts as BlobPart[]).stream())),
        await nodeFileSource(filePath),
      ];
      for (const source of sources) {
        const file = await readSafetensors(source);
        await expectSameFile(file, tensors, metadata);
        await file.close();
      }
    } finally {
      await rm(directory, { recursive: true });
    }
  });

  it('reads a file without __metadata__ as empty metadata, and starts data 8-byte aligned', async () => {
    const seed = freshSeed('safetensors no metadata');
    const tensors = randomTensors(seed);
    const file = await readSafetensors(bytesSource(concatParts(encodeSafetensors(tensors))));
    expect(file.metadata).toEqual({});
    expect(Math.min(...file.tensors.map((tensor) => tensor.offset)) % 8).toBe(0);
    await expectSameFile(file, tensors, {});
  });

  it('recognises other dtypes but lets the engine refuse them by name', async () => {
    const parts = encodeSafetensors([
      { name: 'position_ids', dtype: 'I64', shape: [1, 3], bytes: new Uint8Array(24) },
      { name: 'weight', dtype: 'BF16', shape: [2], bytes: new Uint8Array(4) },
    ]);
    const file = await readSafetensors(bytesSource(concatParts(parts), 'clip.safetensors'));
    const [ids, weight] = file.tensors;
    expect(ids.dtype).toBe('I64');
    expect(() => file.requireDtype(weight)).not.toThrow();
    const error = await expectEngineError(Promise.resolve().then(() => file.requireDtype(ids)), /clip.safetensors: tensor "position_ids" is stored as I64; this app reads F32, F16, BF16/);
    expect(error.action).toMatch(/F32 or F16 or BF16/);
  });
});

describe('safetensors streaming', () => {
  it('gives identical chunks of whole rows from a sequential stream of random pieces and from random access', async () => {
    const seed = freshSeed('safetensors streaming');
    const tensors = randomTensors(seed);
    const bytes = concatParts(encodeSafetensors(tensors, { format: 'pt' }));
    const chunkBytes = randomInt(seed, 1, 64);
    const randomAccess = await collectChunks(await readSafetensors(bytesSource(bytes)), undefined, chunkBytes);
    const sequential = await collectChunks(await readSafetensors(chunkedStream(bytes, seed, { knownSize: false, maxPiece: 11 })), undefined, chunkBytes);
    expect(sequential).toEqual(randomAccess);
    for (const tensor of tensors) {
      const chunks = randomAccess.filter((chunk) => chunk.name === tensor.name);
      const rowBytes = (tensor.shape.at(-1) ?? 1) * BYTES_PER_ELEMENT[tensor.dtype as keyof typeof BYTES_PER_ELEMENT];
      expect(chunks.length).toBeGreaterThan(0);
      expect(concatParts(chunks.map((chunk) => chunk.bytes))).toEqual(tensor.bytes);
      for (const chunk of chunks) expect(rowBytes === 0 || chunk.bytes.length % rowBytes === 0).toBe(true);
    }
  });
});

// ---- malformed files, built byte by byte without the writer ----

/** A safetensors file with `header` as its JSON text and `dataBytes` zero bytes of data. */
function rawFile(header: string, dataBytes: number, headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(header);
  return new RawBytes().u64(headerLength ?? BigInt(json.length)).raw(json).zeros(dataBytes).build();
}

const entry = (fields: Record<string, unknown>) => JSON.stringify({ w: fields });
const f32x4 = { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] };
const read = (bytes: Uint8Array) => readSafetensors(bytesSource(bytes, 'bad.safetensors'));

const MALFORMED: [string, () => Uint8Array, RegExp][] = [
  ['file shorter than the length field', () => new Uint8Array(5), /header length: the file ends at byte 5, but this part extends to byte 8/],
  ['header length past the end', () => rawFile(entry(f32x4), 16, 1000n), /header length: the header length is 1000, but only \d+ bytes remain in the file/],
  ['absurd header length', () => rawFile(entry(f32x4), 16, 2n ** 62n), /the header length is 4611686018427387904/],
  ['header not UTF-8', () => new RawBytes().u64(2).raw([0xc3, 0x28]).build(), /header: the header is not valid UTF-8/],
  ['header not JSON', () => rawFile('{"w": {', 0), /header: not valid JSON \(line 1, column 8: expected a field name in double quotes, found the end of the text\)/],
  ['empty header', () => rawFile('', 0), /header: not valid JSON \(line 1, column 1: expected a value/],
  ['header is an array', () => rawFile('[1, 2]', 0), /header: must be a JSON object, not \[1,2\]/],
  ['header is null', () => rawFile('null', 0), /must be a JSON object, not null/],
  ['tensor entry not an object', () => rawFile('{"w": 5}', 0), /header entry "w": must be an object with dtype, shape and data_offsets, not 5/],
  ['missing dtype', () => rawFile(entry({ ...f32x4, dtype: undefined }), 16), /"w": has no dtype \(each tensor needs dtype, shape and data_offsets\)/],
  ['dtype not a string', () => rawFile(entry({ ...f32x4, dtype: 32 }), 16), /dtype is 32, not a string/],
  ['unknown dtype', () => rawFile(entry({ ...f32x4, dtype: 'F12' }), 16), /"w": unknown dtype "F12"/],
  ['missing shape', () => rawFile(entry({ ...f32x4, shape: undefined }), 16), /"w": has no shape \(/],
  ['nothing but a name', () => rawFile(entry({}), 0), /"w": has no dtype, no shape, no data_offsets/],
  ['null dtype', () => rawFile(entry({ ...f32x4, dtype: null }), 16), /"w": dtype is null, not a string/],
  ['negative dimension', () => rawFile(entry({ ...f32x4, shape: [2, -2] }), 16), /shape is \[2,-2\], not a list of non-negative integers/],
  ['fractional dimension', () => rawFile(entry({ ...f32x4, shape: [2.5, 2] }), 16), /shape is \[2.5,2\]/],
  ['missing data_offsets', () => rawFile(entry({ ...f32x4, data_offsets: undefined }), 16), /"w": has no data_offsets \(/],
  ['data_offsets reversed', () => rawFile(entry({ ...f32x4, data_offsets: [16, 0] }), 16), /data_offsets is \[16,0\], not \[begin, end\]/],
  ['data_offsets of three numbers', () => rawFile(entry({ ...f32x4, data_offsets: [0, 8, 16] }), 16), /data_offsets is \[0,8,16\]/],
  ['shape and offsets disagree', () => rawFile(entry({ ...f32x4, data_offsets: [0, 12] }), 12), /"w": data_offsets span 12 bytes, but F32 of shape \[2, 2\] needs 16/],
  ['overflowing shape', () => rawFile(entry({ ...f32x4, shape: [2 ** 40, 2 ** 40] }), 16), /does not fill a whole number of bytes that fits a file/],
  ['sub-byte dtype ending mid-byte', () => rawFile(entry({ dtype: 'F4', shape: [3], data_offsets: [0, 2] }), 2), /shape \[3\] of F4 does not fill a whole number of bytes/],
  ['data past the end of the file', () => rawFile(entry(f32x4), 10), /"w": the tensor's data ends at byte \d+, past the end of the file/],
  [
    'overlapping tensors',
    () => rawFile(JSON.stringify({ a: f32x4, b: { ...f32x4, data_offsets: [8, 24] } }), 24),
    /header entry "b": the tensor's data overlaps that of tensor "a"/,
  ],
  ['gap before a tensor', () => rawFile(entry({ ...f32x4, data_offsets: [4, 20] }), 20), /"w": bytes \d+..\d+ before this tensor belong to no tensor/],
  ['bytes after the last tensor', () => rawFile(entry(f32x4), 20), /data: the last 4 bytes of the file belong to no tensor/],
  ['__metadata__ not an object', () => rawFile(JSON.stringify({ __metadata__: 'pt' }), 0), /"__metadata__": must be an object of strings, not "pt"/],
  ['__metadata__ value not a string', () => rawFile(JSON.stringify({ __metadata__: { step: 3 } }), 0), /the value of "step" is 3, not a string/],
];

describe('safetensors malformed files', () => {
  it.each(MALFORMED)('%s: a typed error naming the section', async (_case, build, message) => {
    await expectEngineError(read(build()), message);
  });

  it('caps the header length on a stream of unknown length', async () => {
    const seed = freshSeed('safetensors stream cap');
    const bytes = rawFile(entry(f32x4), 16, 200_000_000n);
    await expectEngineError(readSafetensors(chunkedStream(bytes, seed, { knownSize: false })), /the header length is 200000000, but only 100000000 bytes remain before the 95.4 MiB/);
  });

  it('reports HTTP failures and servers without Range support', async () => {
    const bytes = rawFile(entry(f32x4), 16);
    await expectEngineError(httpRangeSource('https://example.test/a', rangeServer(bytes, 'not-found')), /answered 404 Not Found/, 'network');
    await expectEngineError(httpRangeSource('https://example.test/a', rangeServer(bytes, 'ignore-ranges')), /ignores Range requests/, 'network');
    expect(() => responseSource(new Response('gone', { status: 410 }), 'b')).toThrow(/answered 410/);
  });
});

describe('safetensors truncated at every byte', () => {
  it('names the header or the tensor cut off, for random access and for streams of known and unknown length', async () => {
    const seed = freshSeed('safetensors truncation');
    const values = randomArray(seed, 7);
    const tensors: SafetensorsTensorInput[] = [
      { name: 'first', dtype: 'F32', shape: [7], bytes: new Uint8Array(values.buffer) },
      { name: 'second', dtype: 'F16', shape: [2, 3], bytes: randomBytes(seed, 12) },
    ];
    const bytes = concatParts(encodeSafetensors(tensors, { format: 'pt' }));
    const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const sectionAt = (byte: number) => (byte < headerEnd ? /header/ : byte < headerEnd + 28 ? /"first"/ : /"second"/);
    const readAll = async (source: ByteSource) => collectChunks(await readSafetensors(source));
    for (let length = 0; length < bytes.length; length++) {
      const cut = bytes.slice(0, length);
      for (const source of [bytesSource(cut), chunkedStream(cut, seed), chunkedStream(cut, seed, { knownSize: false })]) {
        const error = await expectEngineError(readAll(source), sectionAt(length));
        expect(error.action).toMatch(REDOWNLOAD_ACTION);
      }
    }
  });
});
