// What every CLI command is: the arguments it takes (schema), the files it touches (checked first),
// what it checks and reads without a GPU (prepare), and its GPU work (run), whose output files
// are committed only when it succeeds (tools/cli/outputs.ts).

import type * as v from 'valibot';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import type { RawArgument } from '../../src/schema/cli';
import type { CommandEntries } from './arguments';
import type { OutputFiles } from './outputs';
import type { CommandPaths } from './paths';

export interface CliLog {
  out(line: string): void;
  err(line: string): void;
}

export interface Command<Args extends { software?: true }, Prepared> {
  /** `flux-sample --weights W …`: the command's usage; a line starting with a space continues the one before */
  usage: string;
  entries: CommandEntries;
  schema: v.GenericSchema<Record<string, RawArgument>, Args>;
  paths(args: Args): CommandPaths;
  /** Reads and checks every input (story JSON, input tensors, model headers) without a GPU. */
  prepare(args: Args, log: CliLog): Promise<Prepared>;
  run(gpu: GpuRuntime, prepared: Prepared, outputs: OutputFiles, log: CliLog): Promise<void>;
}

/** Keeps a command's argument and prepared types together (a table of commands erases them). */
export const command = <Args extends { software?: true }, Prepared>(definition: Command<Args, Prepared>): Command<Args, Prepared> => definition;
