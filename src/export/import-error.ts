// Why a share link, a dropped PNG or a story file could not be opened. Like the engine's errors,
// each carries a stable code for the UI and tests, and an `action` sentence telling the user
// what to do next. Messages never repeat the refused content beyond a short quoted excerpt.

export type ImportErrorCode =
  /** not a PNG / not a story link at all */
  | 'not-recognised'
  /** cut short, changed or corrupted on the way (checksum, length, compressed stream) */
  | 'damaged'
  /** over the size limits (compressed or inflated) */
  | 'too-large'
  /** made by a newer version of the app (format or random-number generator) */
  | 'too-new'
  /** well-formed, but a field is missing or out of range */
  | 'invalid'
  /** a PNG without a story in it (not made by this app, or exported without metadata) */
  | 'no-story';

export class ImportError extends Error {
  readonly code: ImportErrorCode;
  readonly action: string;

  constructor(code: ImportErrorCode, message: string, action: string) {
    super(message);
    this.name = 'ImportError';
    this.code = code;
    this.action = action;
  }
}

/** Where imported data came from, for messages: "This story link", and what to do when it is damaged. */
export interface ImportSource {
  what: string;
  askAgain: string;
}

/** The error as plain data (what a store keeps and the UI shows). */
export interface ImportProblem {
  code: ImportErrorCode;
  message: string;
  action: string;
}

/** An ImportError as plain data; anything else thrown while importing is a bug of ours, said so. */
export function importProblem(error: unknown): ImportProblem {
  if (error instanceof ImportError) return { code: error.code, message: error.message, action: error.action };
  const detail = error instanceof Error ? error.message : String(error);
  return { code: 'invalid', message: `It could not be read (${detail}).`, action: 'This is a bug in the app: please report it with this message.' };
}
