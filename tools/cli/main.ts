// `npm run cli -- <command> …` without the process around it: the command line is read and
// checked, every input file is read and checked, and only then is a GPU opened. Output files are
// committed only when the command succeeded. Returns the exit status:
//   0 done; 2 refused (arguments, files, story JSON, input tensors, model headers); 1 failed while running.

import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { describeProblems, type FieldProblem } from '../../src/schema/validate';
import { commandArguments } from './arguments';
import type { CliLog, Command } from './command';
import { fluxForwardCommand, fluxSampleCommand } from './flux';
import { OutputFiles } from './outputs';
import { pathProblems } from './paths';
import { storyCommand } from './story';
import { txt2imgCommand } from './txt2img';

export const COMMANDS: Record<string, Command<{ software?: true }, unknown>> = {
  'flux-forward': fluxForwardCommand,
  'flux-sample': fluxSampleCommand,
  txt2img: txt2imgCommand,
  story: storyCommand,
} as Record<string, Command<{ software?: true }, unknown>>;

/** A GPU for one command; `close` frees it (a test's shared GPU may stay open). */
export interface GpuLease {
  gpu: GpuRuntime;
  close(): void;
}

export interface CliEnvironment extends CliLog {
  /** Called only once every input was checked; `software`: --software was given. */
  openGpu(software: boolean): Promise<GpuLease>;
}

const PROGRAM = 'npm run cli --';
const README = 'README.md "Command line" documents every command.';

export async function runCli(argv: readonly string[], env: CliEnvironment): Promise<number> {
  const [name, ...rest] = argv;
  const chosen = name === undefined ? undefined : Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!chosen) {
    env.err(name === undefined ? `${PROGRAM} needs a command.` : `${PROGRAM} ${JSON.stringify(name)}: is not a command (commands: ${Object.keys(COMMANDS).join(', ')}).`);
    env.err(`usage: ${PROGRAM} <${Object.keys(COMMANDS).join('|')}> [options]; ${README}`);
    return 2;
  }
  const refuse = (problems: FieldProblem[]) => {
    env.err(`${PROGRAM} ${name}: ${describeProblems(problems)}`);
    env.err(usageOf(chosen));
    return 2;
  };
  const args = commandArguments(name, chosen.entries, chosen.schema, rest);
  if (!args.ok) return refuse(args.problems);
  const files = pathProblems(chosen.paths(args.value));
  if (files.length) return refuse(files);
  let prepared: unknown;
  try {
    prepared = await chosen.prepare(args.value, env);
  } catch (error) {
    report(env, error);
    return 2;
  }
  return run(chosen, prepared, args.value.software === true, env);
}

async function run(chosen: Command<{ software?: true }, unknown>, prepared: unknown, software: boolean, env: CliEnvironment): Promise<number> {
  const outputs = new OutputFiles();
  const interrupted = () => void outputs.abort().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let lease: GpuLease | undefined;
  try {
    lease = await env.openGpu(software);
    await chosen.run(lease.gpu, prepared, outputs, env);
    for (const file of await outputs.commit()) env.out(`wrote ${file}`);
    return 0;
  } catch (error) {
    await outputs.abort();
    report(env, error);
    return 1;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    lease?.close();
  }
}

/** `usage: npm run cli -- …`, each line of the command's usage under the first; continuation lines start with a space. */
function usageOf(chosen: Command<{ software?: true }, unknown>): string {
  const lead = `usage: ${PROGRAM} `;
  return chosen.usage
    .split('\n')
    .map((line, i) => (i === 0 ? lead : line.startsWith(' ') ? ' '.repeat(lead.length) : `${' '.repeat(lead.length - PROGRAM.length - 1)}${PROGRAM} `) + line.trimStart())
    .join('\n');
}

/** A typed error as its message and action; a file the system would not read or write; anything else is a bug, said as such. */
function report(env: CliLog, error: unknown): void {
  if (error instanceof Error && 'action' in error) {
    env.err(error.message);
    env.err(String(error.action));
  } else if (error instanceof Error && 'syscall' in error) {
    env.err(error.message);
    env.err('Check that the file is there and readable, and that its folder can be written to.');
  } else {
    env.err(`internal error (a bug in the app, please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
