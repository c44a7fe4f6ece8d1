// Fuzz: mutations of the model catalog, as parsed JSON and as text, through the real validator.

import { describe } from 'vitest';
import { parseCatalog } from '../../../src/schema/catalog';
import { parseJsonText, type Checked } from '../../../src/schema/validate';
import defaultCatalog from '../../../src/ui/models/default-catalog.json';
import { fuzzDocuments, fuzzTexts } from './fuzz';

/** A catalog file's text as the app reads one from a URL: JSON first, then the schema. */
function checkCatalogText(text: string): Checked<unknown> {
  const parsed = parseJsonText(text);
  return parsed.ok ? parseCatalog(parsed.value) : parsed;
}

describe('model catalog', () => {
  fuzzDocuments({ name: 'model catalog', examples: [defaultCatalog], check: parseCatalog, runs: 300 });
  fuzzTexts({ name: 'model catalog file', examples: [JSON.stringify(defaultCatalog, null, 2)], check: checkCatalogText, runs: 200 });
});
