import { userInfo } from 'node:os';
import {
  type JsonValue,
  type OperatorAction,
  operatorRequest,
  requestRunAction,
} from '../index.ts';
import {
  BOARD_OPTION,
  JSON_OPTION,
  RUNS_OPTIONS,
  runsUrl,
  withJobBoard,
  withRunStore,
} from './backends.ts';
import {
  type CliIo,
  type Command,
  type CommandArgs,
  type OptionSpec,
  positional,
  stringOption,
  UsageError,
} from './command.ts';
import { printJson, safeText } from './output.ts';

// The operator's actions on runs that conductors run: each is checked against the run's state
// and left on the run's job, for the conductor holding it (or the next one) to apply.

const ACTION_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  ...RUNS_OPTIONS,
  board: BOARD_OPTION,
  by: {
    type: 'string',
    value: 'NAME',
    description:
      "who asks, for the run's audit list (default: $TASKFLOW_OPERATOR, else your user name)",
  },
  reason: { type: 'string', value: 'TEXT', description: "why, for the run's audit list" },
  json: JSON_OPTION,
};

/**
 * Asks for `action` on the run `ID` (and its atom `ATOM` for the atom actions). Exported for
 * `runs resume`, which does this when it is not given a registry to run the flow itself.
 */
export async function askRunAction(
  args: CommandArgs,
  io: CliIo,
  action: OperatorAction,
  extra: { readonly atom?: string; readonly revert?: boolean; readonly result?: JsonValue } = {},
): Promise<void> {
  const id = positional(args, 0);
  const reason = stringOption(args, 'reason');
  const request = operatorRequest(action, {
    by: stringOption(args, 'by') ?? io.env.TASKFLOW_OPERATOR ?? userInfo().username,
    ...extra,
    ...(reason === undefined ? {} : { reason }),
  });
  const job = await withRunStore(runsUrl(args), io, (runs) =>
    withJobBoard(stringOption(args, 'board'), io, (board) =>
      requestRunAction({ board, runs }, id, request),
    ),
  );
  if (args.values.json === true) {
    printJson(io, { action: request, job });
    return;
  }
  const target = extra.atom === undefined ? `run ${id}` : `atom ${extra.atom} of run ${id}`;
  const where =
    job.state === 'CLAIMED'
      ? `conductor ${job.owner ?? '?'} applies it now`
      : 'the next conductor to claim its job applies it';
  io.stdout(`${safeText(`Asked "${action}" of ${target}; ${where}.`)}\n`);
}

function runAction(action: OperatorAction, summary: string): Command {
  return {
    group: 'runs',
    name: action,
    summary,
    positionals: ['ID'],
    options: ACTION_OPTIONS,
    run: (args, io) => askRunAction(args, io, action),
  };
}

function atomAction(action: OperatorAction, summary: string): Command {
  return {
    group: 'runs',
    name: action,
    summary,
    positionals: ['ID', 'ATOM'],
    options: ACTION_OPTIONS,
    run: (args, io) => askRunAction(args, io, action, { atom: positional(args, 1) }),
  };
}

const cancel: Command = {
  group: 'runs',
  name: 'cancel',
  summary: 'stop a run a conductor runs and revert what it did (--no-revert: stop where it stands)',
  positionals: ['ID'],
  options: {
    ...ACTION_OPTIONS,
    'no-revert': { type: 'boolean', description: 'stop without reverting; the run ends FAILURE' },
  },
  run: (args, io) =>
    askRunAction(args, io, 'cancel', { revert: args.values['no-revert'] !== true }),
};

const resolve: Command = {
  group: 'runs',
  name: 'resolve',
  summary: "finish an atom's failed revert with a result given by hand",
  positionals: ['ID', 'ATOM'],
  options: {
    ...ACTION_OPTIONS,
    result: {
      type: 'string',
      value: 'JSON',
      description: 'required: the revert result, as JSON (e.g. \'{"released":true}\' or null)',
    },
  },
  run: (args, io) => {
    const text = stringOption(args, 'result');
    if (text === undefined) {
      throw new UsageError(
        '"taskflow runs resolve" needs --result JSON, the revert result to record (null for none); see "taskflow runs resolve --help".',
      );
    }
    let result: JsonValue;
    try {
      result = JSON.parse(text) as JsonValue;
    } catch (error) {
      throw new UsageError(
        `--result is not JSON (${(error as Error).message}); quote it for the shell, e.g. --result '{"released":true}'.`,
      );
    }
    return askRunAction(args, io, 'resolve', { atom: positional(args, 1), result });
  },
};

export const runActionCommands: readonly Command[] = [
  runAction('suspend', 'suspend a run a conductor runs: it stays SUSPENDED until resumed'),
  cancel,
  runAction(
    'redrive',
    'run a REVERTED or FAILURE run again from its failed atoms, keeping what succeeded',
  ),
  atomAction('retry-revert', "try an atom's failed revert again"),
  atomAction('skip-revert', "count an atom's failed revert as done (undone by hand)"),
  resolve,
];
