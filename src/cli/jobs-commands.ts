import {
  type ConductorInfo,
  isJobBoardError,
  type Job,
  type JobBoard,
  type JobState,
} from '../index.ts';
import { BOARD_OPTION, JSON_OPTION, withJobBoard } from './backends.ts';
import {
  type CliIo,
  type Command,
  durationOption,
  integerOption,
  NotFoundError,
  pageQuery,
  pagingOptions,
  positional,
  stringOption,
  stringsOption,
  UsageError,
} from './command.ts';
import { flowsModule, flowsOptions, parseFlowArgument, parseStoreJson } from './flow-argument.ts';
import {
  formatTime,
  printFields,
  printJson,
  printPage,
  printTable,
  safeText,
  summarizeFailure,
  summarizeValue,
} from './output.ts';
import { pruneCommand } from './prune-command.ts';

const list: Command = {
  group: 'jobs',
  name: 'list',
  summary: 'list jobs on a jobboard, oldest first',
  positionals: [],
  options: {
    board: BOARD_OPTION,
    state: {
      type: 'string',
      multiple: true,
      value: 'STATE',
      description:
        'only jobs in this state (UNCLAIMED, CLAIMED, COMPLETE, DEAD_LETTER); repeatable',
    },
    name: { type: 'string', value: 'NAME', description: 'only jobs with this name' },
    owner: {
      type: 'string',
      value: 'OWNER',
      description: 'only jobs held (or last held) by this conductor',
    },
    ...pagingOptions('jobs'),
    json: JSON_OPTION,
  },
  async run(args, io) {
    const states = stringsOption(args, 'state').map((s) => s.toUpperCase() as JobState);
    const filters = { name: stringOption(args, 'name'), owner: stringOption(args, 'owner') };
    const page = await withJobBoard(stringOption(args, 'board'), io, (board) =>
      board.list({
        ...(states.length > 0 ? { states } : {}),
        ...(filters.name === undefined ? {} : { name: filters.name }),
        ...(filters.owner === undefined ? {} : { owner: filters.owner }),
        ...pageQuery(args),
      }),
    );
    printPage(io, args.values.json === true, page, {
      noun: 'jobs',
      headers: ['ID', 'NAME', 'FLOW', 'STATE', 'PRIORITY', 'OWNER', 'ATTEMPTS', 'UPDATED'],
      row: jobRow,
    });
  },
};

/**
 * A `taskflow jobs NAME ID` command: `act` on the job with that id, then print the result as
 * JSON with `--json`, else as `print` words it.
 */
function oneJobCommand<T>(spec: {
  readonly name: string;
  readonly summary: string;
  readonly act: (board: JobBoard, id: string) => Promise<T>;
  readonly print: (io: CliIo, result: T, id: string) => void;
}): Command {
  return {
    group: 'jobs',
    name: spec.name,
    summary: spec.summary,
    positionals: ['ID'],
    options: { board: BOARD_OPTION, json: JSON_OPTION },
    async run(args, io) {
      const id = positional(args, 0);
      const result = await withJobBoard(stringOption(args, 'board'), io, (board) =>
        spec.act(board, id),
      );
      if (args.values.json === true && result !== undefined) printJson(io, result);
      else spec.print(io, result, id);
    },
  };
}

function jobRow(job: Job): string[] {
  return [
    job.id,
    job.name,
    `${job.flow.name}@${job.flow.version}`,
    job.outcome === null ? job.state : `${job.state} (${job.outcome.state})`,
    String(job.priority),
    job.owner ?? '-',
    String(job.attempts),
    formatTime(job.updatedAt),
  ];
}

const show = oneJobCommand({
  name: 'show',
  summary: 'show one job: its flow, store, claim and outcome',
  act: (board, id) => board.get(id),
  print: (io, job, id) => {
    if (job === undefined) {
      throw new NotFoundError(
        `No job with id "${id}" is on this jobboard (never posted, or trashed); "taskflow jobs list" shows the ids it holds.`,
      );
    }
    printFields(io, jobFields(job));
  },
});

const post: Command = {
  group: 'jobs',
  name: 'post',
  summary: 'post a job that runs a registered flow factory',
  positionals: [],
  options: {
    board: BOARD_OPTION,
    name: { type: 'string', value: 'NAME', description: 'the job name (required)' },
    flow: {
      type: 'string',
      value: 'FACTORY[@VERSION]',
      description: 'the flow factory to run (required); the version may come from --flows',
    },
    ...flowsOptions(
      'a module exporting a FlowRegistry as "registry", to check FACTORY and read its version',
    ),
    'store-json': {
      type: 'string',
      value: 'JSON',
      description: "the flow's inputs, a JSON object",
    },
    priority: { type: 'string', value: 'P', description: 'higher runs first (default 0)' },
    key: {
      type: 'string',
      value: 'IDEMPOTENCY_KEY',
      description: 'posting again with the same key returns the first job instead of a new one',
    },
    json: JSON_OPTION,
  },
  async run(args, io) {
    const name = required(args.values.name, '--name NAME');
    const flow = await parseFlowArgument(
      required(args.values.flow, '--flow FACTORY@VERSION'),
      flowsModule(args),
    );
    const store = parseStoreJson(stringOption(args, 'store-json'));
    const priority = integerOption(args, 'priority');
    const key = stringOption(args, 'key');
    const job = await withJobBoard(
      stringOption(args, 'board'),
      io,
      (board) =>
        board.post({
          name,
          flow,
          store,
          ...(priority === undefined ? {} : { priority }),
          ...(key === undefined ? {} : { idempotencyKey: key }),
        }),
      { create: true },
    );
    if (args.values.json === true) printJson(io, job);
    else
      io.stdout(
        `${safeText(`Job ${job.id} (${job.name}, ${job.flow.name}@${job.flow.version}) is ${job.state}.`)}\n`,
      );
  },
};

const trash = oneJobCommand({
  name: 'trash',
  summary: 'delete a job that no conductor holds',
  act: async (board, id) => {
    await board.trash(id);
    return { trashed: id };
  },
  print: (io, _result, id) => io.stdout(`${safeText(`Job ${id} was trashed.`)}\n`),
});

const conductors: Command = {
  group: 'jobs',
  name: 'conductors',
  summary: 'list live conductors (those whose heartbeat has not expired)',
  positionals: [],
  options: { board: BOARD_OPTION, json: JSON_OPTION },
  async run(args, io) {
    const live = await withJobBoard(stringOption(args, 'board'), io, (board) =>
      board.listConductors(),
    );
    if (args.values.json === true) printJson(io, live);
    else if (live.length === 0) io.stdout('No live conductors.\n');
    else printTable(io, ['NAME', 'LAST SEEN', 'EXPIRES', 'META'], live.map(conductorRow));
  },
};

function conductorRow(conductor: ConductorInfo): string[] {
  return [
    conductor.name,
    formatTime(conductor.lastSeenAt),
    formatTime(conductor.expiresAt),
    summarizeValue(conductor.meta),
  ];
}

function jobFields(job: Job): [string, string][] {
  const outcome = job.outcome;
  return [
    ['id', job.id],
    ['name', job.name],
    ['flow', `${job.flow.name}@${job.flow.version}`],
    ['state', job.state],
    ['priority', String(job.priority)],
    ['idempotency key', job.idempotencyKey ?? '-'],
    ['store', summarizeValue(job.store, 200)],
    ['owner', job.owner ?? '-'],
    ['lease expires', formatTime(job.leaseExpiresAt)],
    ['token', String(job.token)],
    ['attempts', String(job.attempts)],
    [
      'outcome',
      outcome === null
        ? '-'
        : `${outcome.state}${outcome.failure ? `: ${summarizeFailure(outcome.failure, 200)}` : ''}`,
    ],
    ['dead-letter reason', job.deadLetterReason ?? '-'],
    ['created', formatTime(job.createdAt)],
    ['updated', formatTime(job.updatedAt)],
  ];
}

function required(value: unknown, option: string): string {
  if (typeof value === 'string' && value !== '') return value;
  throw new UsageError(`"taskflow jobs post" needs ${option}; see "taskflow jobs post --help".`);
}

/** Exit statuses of `taskflow jobs wait` beyond 0 (COMPLETE with SUCCESS). */
export const WAIT_STATUS = { failed: 3, deadLetter: 4, timeout: 5 } as const;

const wait: Command = {
  group: 'jobs',
  name: 'wait',
  summary: 'wait until a job finishes; the exit status tells how it ended',
  positionals: ['ID'],
  options: {
    board: BOARD_OPTION,
    timeout: {
      type: 'string',
      value: 'DURATION',
      description: 'give up after this long (e.g. 90s, 10m) with exit status 5; default: no limit',
    },
    json: JSON_OPTION,
  },
  async run(args, io) {
    const id = positional(args, 0);
    const timeoutMs = durationOption(args, 'timeout');
    const job = await withJobBoard(stringOption(args, 'board'), io, async (board) => {
      try {
        return await board.wait(id, timeoutMs === undefined ? {} : { timeoutMs });
      } catch (error) {
        if (isJobBoardError(error, 'WAIT_TIMEOUT')) return error;
        throw error;
      }
    });
    if (job instanceof Error) {
      if (args.values.json === true) printJson(io, { timedOut: true, message: job.message });
      else io.stderr(`taskflow: ${safeText(job.message)}\n`);
      return WAIT_STATUS.timeout;
    }
    if (args.values.json === true) printJson(io, job);
    else printFields(io, jobFields(job));
    if (job.state === 'DEAD_LETTER') return WAIT_STATUS.deadLetter;
    return job.outcome?.state === 'SUCCESS' ? 0 : WAIT_STATUS.failed;
  },
};

const redrive = oneJobCommand({
  name: 'redrive',
  summary: 'put a dead-lettered job back to UNCLAIMED, its attempts reset',
  act: (board, id) => board.redrive(id),
  print: (io, job) =>
    io.stdout(`${safeText(`Job ${job.id} (${job.name}) is ${job.state} again.`)}\n`),
});

const PRUNABLE_STATES = ['COMPLETE', 'DEAD_LETTER'] as const;

const prune = pruneCommand<'COMPLETE' | 'DEAD_LETTER'>({
  group: 'jobs',
  summary: 'delete finished jobs (COMPLETE, DEAD_LETTER) older than a duration',
  backendOptions: { board: BOARD_OPTION },
  records: 'jobs',
  deletedNoun: 'finished job',
  states: { allowed: PRUNABLE_STATES, defaults: PRUNABLE_STATES },
  stateDescription: 'COMPLETE and/or DEAD_LETTER, comma-separated or repeated (default both)',
  withBackend: (args, io, use) =>
    withJobBoard(stringOption(args, 'board'), io, (board) => use((query) => board.prune(query))),
});

export const jobsCommands: readonly Command[] = [
  list,
  show,
  post,
  wait,
  redrive,
  trash,
  prune,
  conductors,
];
