// The model catalog: which files make up a bundle the app can run, where to download each one,
// its size, sha256 and licence (spec/model-catalog.md). The app ships a default catalog
// (src/ui/models/default-catalog.json); a mirror or a test server can stand in with a catalog
// given by URL. Validated wherever it enters: the UI (loading), the worker (each file it is asked
// to download) and the fuzz suite.

import * as v from 'valibot';
import { ModelSourceSchema } from './request';
import { MAX_FRAMES, SCHEDULE_PRESETS, side } from './story';
import { check, flag, got, integerIn, listOf, nonEmptyText, numberIn, oneOf, shown, text, webAddress, type Checked, type FieldProblem } from './validate';

export const CATALOG_VERSION = 1;
export const MODEL_COMPONENTS = ['transformer', 't5', 'clip', 'vae'] as const;
/**
 * bytes; WebKit stores at most 16 GiB in one OPFS file (spec/model-catalog.md), so no catalog
 * may offer a larger one (FLUX F16 files are 23.8 GB: pick them as local files instead).
 */
export const MAX_FILE_BYTES = 16 * 2 ** 30;
/** How far an unconfirmed size may be from the size the server reports (fraction). */
export const APPROXIMATE_SIZE_TOLERANCE = 0.02;
/** Facts of an entry taken second-hand: a mismatch in them is expected, not an error. */
export const UNCONFIRMABLE = ['bytes', 'sha256', 'commit'] as const;

/** Also the file's name in the browser's storage, hence the narrow alphabet. */
const identifier = () =>
  v.pipe(
    v.string((issue) => `must be text${got(issue)}`),
    v.regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, (issue) => `must be 1-100 lower-case letters, digits, ".", "_" or "-"${got(issue)}`),
  );

const fileName = () =>
  v.pipe(
    text(200),
    v.regex(/^[^/\\]+\.(gguf|safetensors)$/i, (issue) => `must be a .gguf or .safetensors file name${got(issue)}`),
  );

const fileBytes = () =>
  v.pipe(
    integerIn(1, Number.MAX_SAFE_INTEGER),
    v.maxValue(MAX_FILE_BYTES, (issue) => `is over the 16 GiB a browser can store in one file${got(issue)}`),
  );

const sha256 = () => v.pipe(v.string((issue) => `must be text${got(issue)}`), v.regex(/^[0-9a-f]{64}$/, (issue) => `must be 64 lower-case hex digits${got(issue)}`));

export const CatalogFileSchema = v.strictObject({
  id: identifier(),
  component: oneOf(MODEL_COMPONENTS),
  /** the published file name; its extension decides the format (GGUF or safetensors) */
  name: fileName(),
  /** http(s), or relative to the catalog's own address */
  url: webAddress(2000),
  bytes: fileBytes(),
  sha256: v.optional(sha256()),
  licence: identifier(),
  /** what people read: "Q4_0", "F16" */
  quantization: v.optional(text(40)),
  /** transformers only: checked against the file's header (dev has a guidance embedder) */
  variant: v.optional(oneOf(['dev', 'schnell'] as const)),
  /** facts of this entry taken second-hand (spec/model-catalog.md): the file's own structure is then the check */
  unconfirmed: v.optional(listOf(oneOf(UNCONFIRMABLE), 1, UNCONFIRMABLE.length, 'facts')),
  note: v.optional(text(500)),
});

export const LicenceSchema = v.strictObject({
  id: identifier(),
  name: nonEmptyText(200, 'name the licence'),
  url: webAddress(2000),
  /** the terms people must know before using the files, in a few sentences */
  summary: nonEmptyText(2000, 'summarise the terms'),
  /** shown as a screen the user must accept before the files are offered */
  requiresAcceptance: flag(),
});

export const BundleSchema = v.strictObject({
  id: identifier(),
  name: nonEmptyText(200, 'name the bundle'),
  description: text(1000),
  schedule: oneOf(SCHEDULE_PRESETS),
  files: v.strictObject({ transformer: identifier(), t5: identifier(), clip: identifier(), vae: identifier() }),
  /** the bundle offered first */
  default: v.optional(flag()),
  /** tiny test models (development builds): they run the whole flow and draw noise */
  noise: v.optional(flag()),
});

export const CatalogSchema = v.strictObject({
  version: v.pipe(
    v.number((issue) => `must be a number${got(issue)}`),
    v.check((value) => value <= CATALOG_VERSION, (issue) => `is ${shown(issue.input)}: this catalog needs a newer version of the app`),
    v.check((value) => value === CATALOG_VERSION, (issue) => `must be ${CATALOG_VERSION}${got(issue)}`),
  ),
  name: v.optional(text(200)),
  licences: listOf(LicenceSchema, 1, 50, 'licences'),
  files: listOf(CatalogFileSchema, 1, 200, 'files'),
  bundles: listOf(BundleSchema, 1, 50, 'bundles'),
});

export type ModelComponent = (typeof MODEL_COMPONENTS)[number];
export type CatalogFile = v.InferOutput<typeof CatalogFileSchema>;
export type Licence = v.InferOutput<typeof LicenceSchema>;
export type Bundle = v.InferOutput<typeof BundleSchema>;
export type Catalog = v.InferOutput<typeof CatalogSchema>;

/** Validates a catalog: its shape, then that every id it refers to exists and fits. Never throws. */
export function parseCatalog(input: unknown): Checked<Catalog> {
  const checked = check(CatalogSchema, input);
  if (!checked.ok) return checked;
  const problems = crossReferences(checked.value);
  return problems.length ? { ok: false, problems } : checked;
}

/** The entry's URL made absolute against the catalog's own address. */
export function resolveFileUrl(file: Pick<CatalogFile, 'url'>, catalogUrl: string): string {
  return new URL(file.url, catalogUrl).href;
}

export function isUnconfirmed(file: Pick<CatalogFile, 'unconfirmed'>, fact: (typeof UNCONFIRMABLE)[number]): boolean {
  return file.unconfirmed?.includes(fact) ?? false;
}

/** The bundle offered first: the one marked default, else the first. */
export function defaultBundle(catalog: Catalog): Bundle {
  return catalog.bundles.find((bundle) => bundle.default) ?? catalog.bundles[0];
}

function crossReferences(catalog: Catalog): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const licences = new Set(catalog.licences.map((licence) => licence.id));
  const files = new Map(catalog.files.map((file) => [file.id, file]));
  problems.push(...duplicates(catalog.licences, 'licences'), ...duplicates(catalog.files, 'files'), ...duplicates(catalog.bundles, 'bundles'));
  catalog.files.forEach((file, i) => {
    if (!licences.has(file.licence)) problems.push({ path: `files[${i}].licence`, message: `names no licence of this catalog, got ${shown(file.licence)}` });
    if (file.variant && file.component !== 'transformer') problems.push({ path: `files[${i}].variant`, message: `is for transformers only, but this file is a ${file.component}` });
  });
  catalog.bundles.forEach((bundle, i) => {
    for (const component of MODEL_COMPONENTS) {
      const id = bundle.files[component];
      const file = files.get(id);
      const path = `bundles[${i}].files.${component}`;
      if (!file) problems.push({ path, message: `names no file of this catalog, got ${shown(id)}` });
      else if (file.component !== component) problems.push({ path, message: `is the ${file.component} file ${shown(id)}, not a ${component}` });
    }
  });
  if (catalog.bundles.filter((bundle) => bundle.default).length > 1) problems.push({ path: 'bundles', message: 'marks more than one bundle as default' });
  return problems;
}

function duplicates(items: readonly { id: string }[], list: string): FieldProblem[] {
  const seen = new Set<string>();
  return items.flatMap((item, i) => {
    if (!seen.has(item.id)) {
      seen.add(item.id);
      return [];
    }
    return [{ path: `${list}[${i}].id`, message: `repeats the id ${shown(item.id)}` }];
  });
}

// The model store's requests (engine-api.ts "Model store"), checked inside the worker.

/** A catalog file id, which is also its file name in the browser's storage. */
export const FileIdSchema = identifier();

export const FileIdListSchema = listOf(identifier(), 0, 200, 'file ids');

export const ModelFileCheckRequestSchema = v.strictObject({
  component: oneOf(MODEL_COMPONENTS),
  source: ModelSourceSchema,
  hash: v.optional(flag()),
});

const capabilityFile = () => v.strictObject({ source: v.optional(ModelSourceSchema), bytes: fileBytes() });

export const CapabilityRequestSchema = v.strictObject({
  bundles: listOf(
    v.strictObject({
      id: identifier(),
      schedule: oneOf(SCHEDULE_PRESETS),
      files: v.strictObject({ transformer: capabilityFile(), t5: capabilityFile(), clip: capabilityFile(), vae: capabilityFile() }),
    }),
    1, 50, 'bundles',
  ),
  sides: listOf(side(), 1, 16, 'image sizes'),
  framesPerBatch: integerIn(1, MAX_FRAMES),
  /** bytes */
  gpuMemoryBytes: v.optional(numberIn(1, 2 ** 50)),
});
