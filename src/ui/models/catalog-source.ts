// Which model catalog the app uses: the one given by the page's `?catalog=` parameter, else the
// address saved in the model panel's settings, else the one shipped with the app (bundled, so it
// works offline and changes only with the app). Development builds add the tiny test models the
// dev server writes (tools/dev-models-plugin.ts). The last catalog loaded from an address is kept
// in the browser, so models stored from a mirror stay usable offline. A catalog that cannot be
// loaded, and has no kept copy, is reported and the shipped one is used: nothing is lost.

import { parseCatalog, resolveFileUrl, type Catalog } from '../../schema/catalog';
import { describeProblems, parseJsonText } from '../../schema/validate';
import defaultCatalogJson from './default-catalog.json';
import type { CatalogState } from './models-state';

/** Where the dev server serves its catalog of tiny models (development builds only). */
export const DEV_CATALOG_PATH = 'dev-models/catalog.json';

export type LoadedCatalog = Extract<CatalogState, { kind: 'ready' }>;

/** Where the last catalog loaded from an address is kept (localStorage): `{ url, savedAt, catalog }`. */
const KEPT_CATALOG_KEY = 'characonsist.catalog.kept';

type KeptCatalogStorage = Pick<Storage, 'getItem' | 'setItem'>;

export async function loadCatalog(requestedUrl: string | undefined, base = document.baseURI, kept: KeptCatalogStorage = localStorage): Promise<LoadedCatalog> {
  const builtIn = await shippedCatalog(base);
  if (!requestedUrl) return builtIn;
  let url: string;
  try {
    url = new URL(requestedUrl, base).href;
  } catch {
    return { ...builtIn, problem: `"${requestedUrl}" is not a web address, so the built-in catalog is used.` };
  }
  try {
    const catalog = await fetchCatalog(url);
    keepCatalog(kept, url, catalog);
    return { kind: 'ready', catalog, from: url };
  } catch (error) {
    const reason = `The catalog at ${url} cannot be used: ${(error as Error).message}`;
    const copy = keptCatalog(kept, url);
    if (copy) return { kind: 'ready', catalog: copy.catalog, from: url, problem: `${reason} The copy kept on ${copy.savedAt.slice(0, 10)} is used.` };
    return { ...builtIn, problem: `${reason} The built-in catalog is used instead.` };
  }
}

function keepCatalog(kept: KeptCatalogStorage, url: string, catalog: Catalog): void {
  try {
    kept.setItem(KEPT_CATALOG_KEY, JSON.stringify({ url, savedAt: new Date().toISOString(), catalog }));
  } catch {
    // A full or disabled localStorage only costs the offline copy.
  }
}

/** The kept copy of the catalog at `url`, checked again (the stored text may be old or edited). */
function keptCatalog(kept: KeptCatalogStorage, url: string): { savedAt: string; catalog: Catalog } | undefined {
  const text = kept.getItem(KEPT_CATALOG_KEY);
  const json = text === null ? undefined : parseJsonText(text);
  if (!json?.ok || typeof json.value !== 'object' || json.value === null) return undefined;
  const { url: keptUrl, savedAt, catalog } = json.value as Record<string, unknown>;
  const parsed = parseCatalog(catalog);
  return keptUrl === url && typeof savedAt === 'string' && parsed.ok ? { savedAt, catalog: parsed.value } : undefined;
}

/** Fetches and validates a catalog; its relative file addresses are made absolute against `url`. */
export async function fetchCatalog(url: string): Promise<Catalog> {
  let response: Response;
  try {
    response = await fetch(url, { referrerPolicy: 'no-referrer', cache: 'no-cache' });
  } catch {
    throw new Error('it could not be downloaded (offline, or the server does not allow this site to read it).');
  }
  if (!response.ok) throw new Error(`the server answered ${response.status}.`);
  // Single-page hosts answer unknown addresses with the app's own page.
  if (/text\/html/i.test(response.headers.get('content-type') ?? '')) throw new Error('the address answers with a web page, not a catalog file: check the address.');
  const json = parseJsonText(await response.text());
  if (!json.ok) throw new Error(`it is not valid JSON: ${describeProblems(json.problems)}.`);
  const parsed = parseCatalog(json.value);
  if (!parsed.ok) throw new Error(`it is not a valid catalog: ${describeProblems(parsed.problems)}.`);
  return withAbsoluteUrls(parsed.value, url);
}

async function shippedCatalog(base: string): Promise<LoadedCatalog> {
  const parsed = parseCatalog(defaultCatalogJson);
  if (!parsed.ok) throw new Error(`The built-in catalog is invalid: ${describeProblems(parsed.problems)}`);
  if (!import.meta.env.DEV) return { kind: 'ready', catalog: parsed.value, from: 'built in' };
  const devUrl = new URL(DEV_CATALOG_PATH, base).href;
  try {
    return { kind: 'ready', catalog: merged(parsed.value, await fetchCatalog(devUrl)), from: 'built in, with the dev server\'s tiny models' };
  } catch (error) {
    return { kind: 'ready', catalog: parsed.value, from: 'built in', problem: `The dev server's tiny models are not available (${(error as Error).message})` };
  }
}

function withAbsoluteUrls(catalog: Catalog, url: string): Catalog {
  return { ...catalog, files: catalog.files.map((file) => ({ ...file, url: resolveFileUrl(file, url) })), licences: catalog.licences.map((licence) => ({ ...licence, url: resolveFileUrl(licence, url) })) };
}

/** `extra`'s bundles after `main`'s; entries with an id `main` already has are left out. */
function merged(main: Catalog, extra: Catalog): Catalog {
  const add = <T extends { id: string }>(ours: T[], theirs: T[]) => [...ours, ...theirs.filter((item) => !ours.some((own) => own.id === item.id))];
  return { ...main, licences: add(main.licences, extra.licences), files: add(main.files, extra.files), bundles: add(main.bundles, extra.bundles) };
}
