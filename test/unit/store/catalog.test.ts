// The catalog schema: the shipped default catalog against the facts of spec/model-catalog.md,
// and malformed catalogs refused with a message naming the field.

import { describe, expect, it } from 'vitest';
import { CATALOG_VERSION, defaultBundle, MAX_FILE_BYTES, MODEL_COMPONENTS, parseCatalog, resolveFileUrl, type Catalog } from '../../../src/schema/catalog';
import defaultCatalogJson from '../../../src/ui/models/default-catalog.json';

/** spec/model-catalog.md: the default bundle's files and their sha256. */
const SPEC_DEFAULT_BUNDLE = {
  transformer: { repo: 'city96/FLUX.1-schnell-gguf', file: 'flux1-schnell-Q4_0.gguf', sha256: '90a393d3a44bec691c707003f434fdde06064b870bb3c206eb7a4f109b25ff4e' },
  t5: { repo: 'city96/t5-v1_1-xxl-encoder-gguf', file: 't5-v1_1-xxl-encoder-Q8_0.gguf', sha256: '9ec60f6028534b7fe5af439fcb535d75a68592a9ca3fcdeb175ef89e3ee99825' },
  clip: { repo: 'comfyanonymous/flux_text_encoders', file: 'clip_l.safetensors', sha256: '660c6f5b1abae9dc498ac2d21e1347d2abdb0cf6c0c0c8576cd796491d9a6cdd' },
  vae: { repo: 'Comfy-Org/z_image_turbo', file: 'split_files/vae/ae.safetensors', sha256: 'afc8e28272cd15db3919bacdb6918ce9c1ed22e96cb12c4d5ed0fba823529e38' },
};

function parsedDefault(): Catalog {
  const parsed = parseCatalog(defaultCatalogJson);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}

const problemsOf = (catalog: unknown) => {
  const parsed = parseCatalog(catalog);
  return parsed.ok ? [] : parsed.problems.map(({ path, message }) => `${path}: ${message}`);
};

/** The default catalog with one change made by `edit`. */
function edited(edit: (catalog: Record<string, any>) => void): unknown {
  const copy = structuredClone(defaultCatalogJson) as Record<string, any>;
  edit(copy);
  return copy;
}

describe('the default catalog', () => {
  it('is valid and offers the account-free default bundle of the spec, about 12.4 GB', () => {
    const catalog = parsedDefault();
    const bundle = defaultBundle(catalog);
    expect(bundle.schedule).toBe('schnell-4');
    let bytes = 0;
    for (const component of MODEL_COMPONENTS) {
      const file = catalog.files.find((entry) => entry.id === bundle.files[component])!;
      const expected = SPEC_DEFAULT_BUNDLE[component];
      expect(file.url).toBe(`https://huggingface.co/${expected.repo}/resolve/main/${expected.file}`);
      expect(file.sha256).toBe(expected.sha256);
      expect(catalog.licences.find((licence) => licence.id === file.licence)!.requiresAcceptance).toBe(false);
      bytes += file.bytes;
    }
    expect(bytes / 1e9).toBeCloseTo(12.4, 1);
  });

  it('puts FLUX.1 [dev] behind its non-commercial licence, which must be accepted', () => {
    const catalog = parsedDefault();
    const dev = catalog.bundles.filter((bundle) => bundle.schedule === 'dev-50');
    expect(dev.map((bundle) => bundle.name)).toEqual(['FLUX.1 [dev] Q4_0', 'FLUX.1 [dev] Q8_0']);
    for (const bundle of dev) {
      const transformer = catalog.files.find((file) => file.id === bundle.files.transformer)!;
      expect(transformer.url).toMatch(/^https:\/\/huggingface\.co\/city96\/FLUX\.1-dev-gguf\//);
      const licence = catalog.licences.find((entry) => entry.id === transformer.licence)!;
      expect(licence).toMatchObject({ name: 'FLUX.1 [dev] Non-Commercial License v1.1.1', requiresAcceptance: true });
      expect(licence.summary).toMatch(/non-commercial/i);
    }
  });

  it('marks what it could not confirm here: every commit, and the sizes known only second-hand', () => {
    const catalog = parsedDefault();
    for (const file of catalog.files) expect(file.unconfirmed).toContain('commit');
    const approximate = catalog.files.filter((file) => file.unconfirmed?.includes('bytes')).map((file) => file.id);
    expect(approximate).toEqual(['flux1-schnell-q4_0', 't5-v1_1-xxl-encoder-q8_0', 'flux1-dev-q4_0', 'flux1-dev-q8_0']);
    for (const file of catalog.files) expect(file.bytes).toBeLessThanOrEqual(MAX_FILE_BYTES);
  });
});

describe('malformed catalogs', () => {
  it.each<[string, (catalog: Record<string, any>) => void, string]>([
    ['a newer version', (c) => (c.version = CATALOG_VERSION + 1), 'version: is 2: this catalog needs a newer version of the app'],
    ['a misspelt key', (c) => (c.files[0].sha265 = c.files[0].sha256), 'files[0].sha265: is not a known field'],
    ['a size given as text', (c) => (c.files[1].bytes = '5060000000'), 'files[1].bytes: must be a number, got "5060000000"'],
    ['a file over 16 GiB', (c) => (c.files[0].bytes = 23_800_000_000), 'files[0].bytes: is over the 16 GiB a browser can store in one file'],
    ['a javascript: address', (c) => (c.files[2].url = 'javascript:alert(1)'), 'files[2].url: must be an http(s) address or a relative one'],
    ['a file name without a model extension', (c) => (c.files[3].name = 'ae.bin'), 'files[3].name: must be a .gguf or .safetensors file name'],
    ['an upper-case sha256', (c) => (c.files[0].sha256 = c.files[0].sha256.toUpperCase()), 'files[0].sha256: must be 64 lower-case hex digits'],
    ['an id with a slash', (c) => (c.files[0].id = '../flux'), 'files[0].id: must be 1-100 lower-case letters'],
    ['a bundle naming a missing file', (c) => (c.bundles[0].files.t5 = 't5-q5_k_m'), 'bundles[0].files.t5: names no file of this catalog, got "t5-q5_k_m"'],
    ['a bundle naming the wrong component', (c) => (c.bundles[0].files.t5 = 'clip-l'), 'bundles[0].files.t5: is the clip file "clip-l", not a t5'],
    ['an unknown licence', (c) => (c.files[2].licence = 'gpl'), 'files[2].licence: names no licence of this catalog, got "gpl"'],
    ['two files with one id', (c) => (c.files[1].id = c.files[0].id), 'files[1].id: repeats the id "flux1-schnell-q4_0"'],
    ['two default bundles', (c) => (c.bundles[1].default = true), 'bundles: marks more than one bundle as default'],
    ['a variant on a T5 file', (c) => (c.files[1].variant = 'dev'), 'files[1].variant: is for transformers only, but this file is a t5'],
    ['no bundles', (c) => (c.bundles = []), 'bundles: needs at least 1 bundles'],
  ])('refuses %s, naming the field', (_, edit, expected) => {
    expect(problemsOf(edited(edit)).join('\n')).toContain(expected);
  });

  it('refuses what is not a catalog at all', () => {
    for (const input of [null, 42, 'catalog', [], {}]) expect(problemsOf(input).length).toBeGreaterThan(0);
  });
});

describe('file addresses', () => {
  it('resolves relative addresses against the catalog and keeps absolute ones', () => {
    expect(resolveFileUrl({ url: 'tiny/flux.gguf' }, 'http://127.0.0.1:4173/tiny-models/catalog.json')).toBe('http://127.0.0.1:4173/tiny-models/tiny/flux.gguf');
    expect(resolveFileUrl({ url: 'https://mirror.example/ae.safetensors' }, 'http://127.0.0.1:4173/c.json')).toBe('https://mirror.example/ae.safetensors');
  });
});
