// The files a command reads and writes, checked before any work: a missing input, or an output in
// a folder that does not exist, is refused at once instead of after minutes on the GPU.

import { statSync } from 'node:fs';
import path from 'node:path';
import type { FieldProblem } from '../../src/schema/validate';

/** Option (e.g. `--weights`) -> path, per role; undefined paths (options not given) are skipped. */
export interface CommandPaths {
  /** files read */
  files?: Record<string, string | undefined>;
  /** folders read, with the files each must hold */
  folders?: Record<string, { path: string | undefined; holding: readonly string[] }>;
  /** files written */
  outputs?: Record<string, string | undefined>;
  /** folders written into (created when missing) */
  outputFolders?: Record<string, string | undefined>;
}

/** A path as typed, quoted: it may hold spaces, or look like anything. */
const q = (file: string) => JSON.stringify(file);

const kindOf = (file: string) => {
  const stats = statSync(file, { throwIfNoEntry: false });
  return stats === undefined ? 'missing' : stats.isDirectory() ? 'folder' : 'file';
};

function given<T>(record: Record<string, T | undefined> | undefined): [string, T][] {
  return Object.entries(record ?? {}).filter((entry): entry is [string, T] => entry[1] !== undefined);
}

export function pathProblems(paths: CommandPaths): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const problem = (option: string, message: string) => problems.push({ path: option, message });
  for (const [option, file] of given(paths.files)) {
    const kind = kindOf(file);
    if (kind !== 'file') problem(option, kind === 'missing' ? `there is no file ${q(file)}` : `${q(file)} is a folder, not a file`);
  }
  for (const [option, { path: folder, holding }] of given(paths.folders)) {
    if (folder === undefined) continue;
    if (kindOf(folder) !== 'folder') {
      problem(option, `there is no folder ${q(folder)}`);
      continue;
    }
    const missing = holding.filter((name) => kindOf(path.join(folder, name)) !== 'file');
    if (missing.length) problem(option, `the folder ${q(folder)} has no ${missing.join(', ')}`);
  }
  const written = new Set<string>();
  const outputs: [string, string, 'file' | 'folder'][] = [
    ...given(paths.outputs).map(([option, file]) => [option, file, 'file'] as [string, string, 'file']),
    ...given(paths.outputFolders).map(([option, folder]) => [option, folder, 'folder'] as [string, string, 'folder']),
  ];
  const inputs = new Set(given(paths.files).map(([, file]) => path.resolve(file)));
  for (const [option, target, wanted] of outputs) {
    const parent = path.dirname(path.resolve(target));
    const kind = kindOf(target);
    if (kindOf(parent) !== 'folder') problem(option, `the folder ${q(parent)} does not exist (create it first)`);
    else if (kind !== 'missing' && kind !== wanted) problem(option, `${q(target)} is a ${kind}; give the name of a ${wanted}`);
    else if (inputs.has(path.resolve(target))) problem(option, `${q(target)} is also an input of this command; give another name`);
    else if (written.has(path.resolve(target))) problem(option, `${q(target)} is written by another option too; give another name`);
    written.add(path.resolve(target));
  }
  return problems;
}
