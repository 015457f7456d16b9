import { readFileSync } from 'node:fs';
import { TaskFlowError } from '../index.ts';
import { type CliIo, type Command, parseCommandArgs, UsageError } from './command.ts';
import { conductorCommand } from './conductor-command.ts';
import { definitionsCommands } from './definitions-commands.ts';
import { commandHelp, generalHelp, groupHelp } from './help.ts';
import { jobsCommands } from './jobs-commands.ts';
import { safeText } from './output.ts';
import { runActionCommands } from './run-action-commands.ts';
import { runsCommands } from './runs-commands.ts';
import { serveCommand } from './serve-command.ts';
import { tokenCommands } from './service-tokens.ts';

export const COMMANDS: readonly Command[] = [
  ...runsCommands,
  ...runActionCommands,
  ...jobsCommands,
  conductorCommand,
  serveCommand,
  ...tokenCommands,
  ...definitionsCommands,
];

/** Library error codes that mean the command line was wrong, not the storage. */
const USAGE_CODES: readonly string[] = ['USAGE', 'INVALID_ARGUMENT', 'UNKNOWN_FACTORY'];

/**
 * Runs `taskflow` with `argv` (the words after the program name) and returns the exit status:
 * 0 done, 1 storage error or not found, 2 bad command line. Never throws.
 *
 * @example
 * process.exitCode = await runCli(['runs', 'list', '--unfinished'], {
 *   stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env,
 * });
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    const status = exitStatus(error);
    if (wantsJson(argv)) io.stderr(`${JSON.stringify({ error: errorJson(error, status) })}\n`);
    else io.stderr(`taskflow: ${safeText(describeError(error, io))}\n`);
    return status;
  }
}

/** `--json` anywhere before a `--` that ends the options. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** The error of a failed command for programs: `{ "error": { code, message, exitStatus } }`. */
function errorJson(
  error: unknown,
  status: number,
): { code: string; message: string; exitStatus: number } {
  if (error instanceof TaskFlowError) {
    return { code: error.code, message: error.message, exitStatus: status };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'UNEXPECTED', message, exitStatus: status };
}

/** The package's version, from the package.json two folders up (from src/cli and dist/cli). */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return String((JSON.parse(text) as { version?: unknown }).version ?? 'unknown');
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const [group, name, ...rest] = argv;
  if (group === undefined) {
    io.stderr(generalHelp(COMMANDS));
    return 2;
  }
  if (group === '--version' || group === '-V' || group === 'version') {
    io.stdout(`${packageVersion()}\n`);
    return 0;
  }
  if (group === 'help' || group === '--help' || group === '-h') {
    io.stdout(helpFor(name, rest[0]));
    return 0;
  }
  const inGroup = COMMANDS.filter((c) => c.group === group);
  if (inGroup.length === 0) {
    throw new UsageError(
      `Unknown command "${group}"; the commands are ${groupNames()} and help. Run "taskflow help".`,
    );
  }
  // A group that is one command (`taskflow conductor`) takes the rest as its arguments.
  const solo = inGroup.find((c) => c.name === '');
  if (name === '--help' || name === '-h') {
    io.stdout(solo === undefined ? groupHelp(group, COMMANDS) : commandHelp(solo));
    return 0;
  }
  if (solo !== undefined) return runCommand(solo, name === undefined ? [] : [name, ...rest], io);
  const command = inGroup.find((c) => c.name === name);
  if (command === undefined) {
    const names = inGroup.map((c) => c.name).join(', ');
    const problem = name === undefined ? 'needs a subcommand' : `has no subcommand "${name}"`;
    throw new UsageError(
      `"taskflow ${group}" ${problem}; use one of ${names} (see "taskflow ${group} --help").`,
    );
  }
  return runCommand(command, rest, io);
}

async function runCommand(command: Command, argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs(command, argv);
  if (args.values.help === true) {
    io.stdout(commandHelp(command));
    return 0;
  }
  const status = await command.run(args, io);
  return typeof status === 'number' ? status : 0;
}

function helpFor(group: string | undefined, name: string | undefined): string {
  if (group === undefined) return generalHelp(COMMANDS);
  const command = COMMANDS.find((c) => c.group === group && c.name === (name ?? ''));
  if (command !== undefined) return commandHelp(command);
  if (name === undefined && COMMANDS.some((c) => c.group === group)) {
    return groupHelp(group, COMMANDS);
  }
  throw new UsageError(
    `There is no command "${[group, name].filter(Boolean).join(' ')}" to explain; run "taskflow help" for the list.`,
  );
}

function groupNames(): string {
  return [...new Set(COMMANDS.map((c) => c.group))].join(', ');
}

function describeError(error: unknown, io: CliIo): string {
  if (error instanceof TaskFlowError) {
    const known = error.code === 'USAGE' || error.code === 'NOT_FOUND';
    return known ? error.message : `${error.message} (${error.code})`;
  }
  // Not one of ours: a bug or an unexpected failure of the platform; the stack helps report it.
  if (io.env.TASKFLOW_DEBUG && error instanceof Error) return error.stack ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

function exitStatus(error: unknown): number {
  return error instanceof TaskFlowError && USAGE_CODES.includes(error.code) ? 2 : 1;
}
