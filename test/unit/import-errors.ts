// The ImportError a reader throws, for tests that check why something was refused.

import { ImportError } from '../../src/export/import-error';

export function importError(run: () => unknown): ImportError {
  try {
    run();
  } catch (error) {
    if (error instanceof ImportError) return error;
    throw error;
  }
  throw new Error('expected an ImportError, got a result');
}
