import { parseArgs } from 'node:util';
import { TaskFlowError } from '../index.ts';

/** Where a command writes and what it reads from its surroundings; tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Standard output when it is a terminal: live displays (the conductor's status line, a
   * prune's progress) are redrawn on it. Absent, output is plain lines only.
   */
  readonly terminal?: NodeJS.WritableStream;
}

/** One option of a command, as `parseArgs` takes it plus what `--help` prints. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  /** Placeholder shown in help, e.g. `URL`; string options only. */
  readonly value?: string;
  readonly description: string;
}

/** The parsed command line of one command. */
export interface CommandArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
}

/** A `taskflow GROUP NAME` command: its help and its action. */
export interface Command {
  readonly group: string;
  readonly name: string;
  readonly summary: string;
  /** Positional arguments, in order, e.g. `['ID']`; all are required. */
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /**
   * Resolves with a number to exit with that status (e.g. `jobs wait` for a failed job);
   * anything else means 0.
   */
  run(args: CommandArgs, io: CliIo): Promise<unknown>;
}

/**
 * Bad input on the command line: an unknown command or option, a missing or malformed value.
 * The CLI prints the message (which names the problem and the fix) and exits with status 2.
 */
export class UsageError extends TaskFlowError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** A run or job that is not there; the message says how to find the right id. Exit status 1. */
export class NotFoundError extends TaskFlowError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export const HELP_OPTION: OptionSpec = { type: 'boolean', description: 'show this help' };

/** The command's full name as typed, for messages: `taskflow runs list`. */
export function commandName(command: Command): string {
  return `taskflow ${command.group} ${command.name}`.trimEnd();
}

/**
 * Parses `argv` (the words after the command name) with `node:util`'s `parseArgs`, turning its
 * errors into {@link UsageError}s that name the command and the fix.
 */
export function parseCommandArgs(command: Command, argv: readonly string[]): CommandArgs {
  const options = Object.fromEntries(
    Object.entries({ ...command.options, help: HELP_OPTION }).map(([name, spec]) => [
      name,
      { type: spec.type, ...(spec.multiple ? { multiple: true } : {}) },
    ]),
  );
  const name = commandName(command);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(
      `${describeParseError(error)} in "${name}"; run "${name} --help" to see its options.`,
    );
  }
  const values = parsed.values as CommandArgs['values'];
  if (values.help === true) return { values, positionals: parsed.positionals };
  const expected = command.positionals;
  if (parsed.positionals.length < expected.length) {
    const missing = expected.slice(parsed.positionals.length).join(' ');
    throw new UsageError(
      `"${name}" needs ${missing}; write "${name} ${expected.join(' ')}" (see "${name} --help").`,
    );
  }
  if (parsed.positionals.length > expected.length) {
    const extra = parsed.positionals.slice(expected.length).join(' ');
    throw new UsageError(
      `"${name}" does not take the argument(s) "${extra}"; run "${name} --help" to see its usage.`,
    );
  }
  return { values, positionals: parsed.positionals };
}

function describeParseError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(--?[^' ]+)/.exec(message)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `Unknown option "${option}"`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (message.includes('ambiguous')) {
        return `Option "${option}" is followed by a value starting with "-"; if it is the value, write ${option}=VALUE`;
      }
      return message.includes('missing')
        ? `Option "${option}" needs a value`
        : `Option "${option}" does not take a value`;
    default:
      return message.replace(/\.$/, '');
  }
}

/** A string option's value, or undefined. */
export function stringOption(args: CommandArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable string option's values, or an empty list. */
export function stringsOption(args: CommandArgs, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A whole-number option's value, or undefined when absent; anything else is a {@link UsageError}. */
export function integerOption(args: CommandArgs, name: string): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text.trim())) {
    throw new UsageError(
      `Option --${name} must be a whole number, got "${text}"; e.g. --${name} 10.`,
    );
  }
  return Number(text);
}

/** The positional argument at `index` (parseCommandArgs has checked it is there). */
export function positional(args: CommandArgs, index: number): string {
  return args.positionals[index] ?? '';
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** A duration option (`30d`, `12h`, `90m`, `45s`, `500ms`, `2w`) in milliseconds, or undefined. */
export function durationOption(args: CommandArgs, name: string): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.trim());
  const amount = match === null ? Number.NaN : Number(match[1]);
  const unit = DURATION_UNITS[match?.[2] ?? ''];
  if (unit === undefined || !Number.isSafeInteger(amount * unit)) {
    throw new UsageError(
      `Option --${name} must be a duration such as 30d, 12h, 90m, 45s or 500ms, got "${text}".`,
    );
  }
  return amount * unit;
}

/** The paging options of a listing of `records`: `--limit N` and `--after CURSOR`. */
export function pagingOptions(records: string): Readonly<Record<'limit' | 'after', OptionSpec>> {
  return {
    limit: {
      type: 'string',
      value: 'N',
      description: `at most N ${records} (1..1000, default 100)`,
    },
    after: { type: 'string', value: 'CURSOR', description: 'the page after this cursor' },
  };
}

/** The page the {@link pagingOptions} ask for, as a listing query takes it. */
export function pageQuery(args: CommandArgs): { readonly limit?: number; readonly after?: string } {
  const limit = integerOption(args, 'limit');
  const after = stringOption(args, 'after');
  return { ...(limit === undefined ? {} : { limit }), ...(after === undefined ? {} : { after }) };
}

/**
 * A list option given as `--state A,B` or `--state A --state B` (any case), each value checked
 * against `allowed`; a value not in it is a {@link UsageError} naming the allowed ones.
 */
export function listOption<T extends string>(
  args: CommandArgs,
  name: string,
  allowed: readonly T[],
): T[] {
  const values = stringsOption(args, name)
    .flatMap((value) => value.split(','))
    .map((value) => value.trim().toUpperCase())
    .filter((value) => value !== '');
  for (const value of values) {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new UsageError(
        `--${name} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}.`,
      );
    }
  }
  return values as T[];
}
