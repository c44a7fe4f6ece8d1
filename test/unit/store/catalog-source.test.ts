// Which catalog the app uses when one is given by address: the fetched one, the copy kept from the
// last load when the address cannot be reached (models stored from a mirror stay usable offline),
// and the built-in one when neither is there. fetch is replaced; nothing leaves the process.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCatalog } from '../../../src/schema/catalog';
import { loadCatalog } from '../../../src/ui/models/catalog-source';
import defaultCatalogJson from '../../../src/ui/models/default-catalog.json';

const MIRROR = 'https://mirror.example/models/catalog.json';
const BASE = 'https://app.example/';

/** The default catalog renamed, so a test can tell which catalog it got. */
const mirrorCatalog = (name: string) => ({ ...structuredClone(defaultCatalogJson), name });

function memoryStorage(): Pick<Storage, 'getItem' | 'setItem'> & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return { items, getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) };
}

/** Every fetch answers with `body` as JSON, or fails as an unreachable server does when `body` is undefined. */
function serve(body: unknown): void {
  vi.stubGlobal('fetch', async (url: string) => {
    if (body === undefined || url !== MIRROR) throw new TypeError('Failed to fetch');
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  });
}

afterEach(() => vi.unstubAllGlobals());

describe('the catalog given by address', () => {
  it('is used when it loads, and kept', async () => {
    const kept = memoryStorage();
    serve(mirrorCatalog('Mirror A'));
    const loaded = await loadCatalog(MIRROR, BASE, kept);
    expect([loaded.catalog.name, loaded.from, loaded.problem]).toEqual(['Mirror A', MIRROR, undefined]);
    expect(kept.items.size).toBe(1);
  });

  it('comes from the kept copy when the address cannot be reached, saying so', async () => {
    const kept = memoryStorage();
    serve(mirrorCatalog('Mirror A'));
    await loadCatalog(MIRROR, BASE, kept);
    serve(undefined);
    const offline = await loadCatalog(MIRROR, BASE, kept);
    expect(offline.catalog.name).toBe('Mirror A');
    expect(offline.problem).toMatch(/cannot be used: .*The copy kept on \d{4}-\d\d-\d\d is used\./);
  });

  it('falls back to the built-in catalog when the kept copy is of another address, edited into nonsense, or absent', async () => {
    const builtIn = (parseCatalog(defaultCatalogJson) as { ok: true; value: { name: string } }).value.name;
    const otherAddress = memoryStorage();
    serve(mirrorCatalog('Mirror A'));
    await loadCatalog(MIRROR, BASE, otherAddress);
    const broken = memoryStorage();
    broken.setItem('characonsist.catalog.kept', '{"url": "' + MIRROR + '", "savedAt": "2026-01-01", "catalog": {"version": 1}}');
    serve(undefined);
    for (const kept of [otherAddress, broken, memoryStorage()]) {
      const url = kept === otherAddress ? `${MIRROR}?other` : MIRROR;
      const loaded = await loadCatalog(url, BASE, kept);
      expect(loaded.catalog.name).toBe(builtIn);
      expect(loaded.problem).toMatch(/The built-in catalog is used instead\./);
    }
  });
});
