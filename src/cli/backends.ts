import { mkdirSync } from 'node:fs';
import {
  type JobBoard,
  openJobBoard,
  openRunStore,
  type RunStore,
  redactUrl,
  TaskFlowError,
} from '../index.ts';
import { type CliIo, type CommandArgs, type OptionSpec, stringOption } from './command.ts';

/** The folder of the default SQLite files, relative to the working directory. */
const DEFAULT_FOLDER = '.taskflow';
export const DEFAULT_STORE_URL = `sqlite://${DEFAULT_FOLDER}/runs.db`;
export const DEFAULT_BOARD_URL = `sqlite://${DEFAULT_FOLDER}/jobs.db`;

/**
 * The run store options: `--runs` (and $TASKFLOW_RUNS), with `--store` and $TASKFLOW_STORE
 * still read for one release ("store" is the run's inputs everywhere else).
 */
export const RUNS_OPTIONS: Readonly<Record<'runs' | 'store', OptionSpec>> = {
  runs: {
    type: 'string',
    value: 'URL',
    description: `run store URL (default: $TASKFLOW_RUNS, else ${DEFAULT_STORE_URL})`,
  },
  store: { type: 'string', value: 'URL', description: 'deprecated spelling of --runs' },
};

/** The run store URL a command was given, under either spelling. */
export function runsUrl(args: CommandArgs): string | undefined {
  return stringOption(args, 'runs') ?? stringOption(args, 'store');
}

export const BOARD_OPTION: OptionSpec = {
  type: 'string',
  value: 'URL',
  description: `jobboard URL (default: $TASKFLOW_BOARD, else ${DEFAULT_BOARD_URL})`,
};

export const JSON_OPTION: OptionSpec = {
  type: 'boolean',
  description: 'print JSON for programs instead of a table',
};

/** How a command opens a backend: only commands that write may create a new SQLite file. */
export interface OpenMode {
  readonly create?: boolean;
}

/**
 * Runs `use` with the run store the option, $TASKFLOW_RUNS ($TASKFLOW_STORE) or the default names, and closes
 * it afterwards. Only for the default does the CLI create the `.taskflow` folder; a URL given
 * explicitly is opened as written. A SQLite file that does not exist is an error unless the
 * command writes (`create: true`), so a mistyped path is never taken for an empty store.
 */
export async function withRunStore<T>(
  url: string | undefined,
  io: CliIo,
  use: (store: RunStore) => Promise<T>,
  mode: OpenMode = {},
): Promise<T> {
  const create = mode.create === true;
  const chosen = chosenRunsUrl(url, io, create);
  const store = await opening(
    () => openRunStore(chosen, { create }),
    'run store',
    chosen,
    '--runs',
  );
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/**
 * The run store URL a command uses: the option, else $TASKFLOW_RUNS ($TASKFLOW_STORE), else
 * the default, whose folder is created when the command writes.
 */
export function chosenRunsUrl(url: string | undefined, io: CliIo, create: boolean): string {
  return (
    url ?? io.env.TASKFLOW_RUNS ?? io.env.TASKFLOW_STORE ?? defaultUrl(DEFAULT_STORE_URL, create)
  );
}

/** As {@link withRunStore}, for the jobboard ($TASKFLOW_BOARD). */
export async function withJobBoard<T>(
  url: string | undefined,
  io: CliIo,
  use: (board: JobBoard) => Promise<T>,
  mode: OpenMode = {},
): Promise<T> {
  const create = mode.create === true;
  const chosen = url ?? io.env.TASKFLOW_BOARD ?? defaultUrl(DEFAULT_BOARD_URL, create);
  const board = await opening(
    () => openJobBoard(chosen, { create }),
    'jobboard',
    chosen,
    '--board',
  );
  try {
    return await use(board);
  } finally {
    await board.close();
  }
}

function defaultUrl(url: string, create: boolean): string {
  if (create) mkdirSync(DEFAULT_FOLDER, { recursive: true });
  return url;
}

/**
 * Opens a backend, giving a driver's own error (better-sqlite3 throws plain errors, e.g. for a
 * folder that does not exist) the context of which URL and which option it came from.
 */
async function opening<T>(
  open: () => Promise<T>,
  what: string,
  url: string,
  option: string,
): Promise<T> {
  try {
    return await open();
  } catch (error) {
    if (error instanceof TaskFlowError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new TaskFlowError(
      'OPEN_FAILED',
      `Cannot open the ${what} at ${JSON.stringify(redactUrl(url))}: ${reason}. Check the URL given by ${option} or its environment variable.`,
      { cause: error },
    );
  }
}
