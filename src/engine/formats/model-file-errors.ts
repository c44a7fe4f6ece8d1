// Errors for truncated, damaged or foreign model files. Each names the file and the part of it
// being read (the header, a metadata entry, a tensor's info or data) and tells the user what to
// do.

import { EngineError, modelFileError } from '../errors';

export const REDOWNLOAD =
  'The file is incomplete, probably an interrupted download: delete it and download it again.';
export const DAMAGED =
  'The file is damaged or was not written by a GGUF/safetensors tool: delete it and download it again; if the error comes back, choose another file.';

/** `section` says where in the file, e.g. `tensor info 3 ("img_in.weight")`. */
export function malformedFile(file: string, section: string, problem: string, action = DAMAGED): EngineError {
  return modelFileError(`${file}, ${section}`, problem, action);
}

export function truncatedFile(file: string, section: string, needEnd: number, fileEnd: number): EngineError {
  return malformedFile(
    file,
    section,
    `the file ends at byte ${fileEnd}, but this part extends to byte ${needEnd}`,
    REDOWNLOAD,
  );
}

/** A name from the file, quoted and shortened: a damaged file can hold megabytes of garbage there. */
export function quoted(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

export function missingTensor(file: string, name: string): EngineError {
  return modelFileError(
    file,
    `there is no tensor named ${quoted(name)}.`,
    'This file is not the model that was expected: choose the matching model file.',
  );
}

/** A caller reading a one-pass stream asked for bytes it has already passed: a bug, not bad input. */
export function sequentialRewind(file: string, offset: number, position: number): EngineError {
  return new EngineError(
    'internal',
    `${file} is read as a one-pass stream, at byte ${position}; byte ${offset} has already gone by.`,
    'This is a bug in the app (tensors of a streamed file must be read in file order): please report it.',
  );
}
