import { Conductor, type ConductorEvent, type FlowRegistry } from '../index.ts';
import {
  BOARD_OPTION,
  chosenRunsUrl,
  JSON_OPTION,
  RUNS_OPTIONS,
  runsUrl,
  withJobBoard,
  withRunStore,
} from './backends.ts';
import { type CliIo, type Command, integerOption, stringOption, UsageError } from './command.ts';
import { ConductorStatusLine } from './conductor-status.ts';
import { DEFINITION_OPTIONS, withDefinitions } from './definitions-commands.ts';
import { flowsModule, flowsOptions, loadRegistry } from './flow-argument.ts';
import { openLiveLine } from './live-line.ts';
import { formatTime, safeText } from './output.ts';

/**
 * `taskflow conductor`: a Conductor in this process, running jobs from the board with the
 * flows of a registry module, until SIGTERM or SIGINT. A stop suspends the running engines and
 * gives their jobs back, so another conductor continues them at once. On a terminal a status
 * line (jobs running, completed, abandoned, lost, the rate, held claims and their lease
 * countdown) is redrawn below the log lines.
 */
export const conductorCommand: Command = {
  group: 'conductor',
  name: '',
  summary: 'claim and run jobs with the flows of a registry module, until SIGTERM or SIGINT',
  positionals: [],
  options: {
    ...flowsOptions(
      'a module exporting the FlowRegistry (as "registry" or default); required without --definitions',
    ),
    definitions: {
      type: 'boolean',
      description: 'run the flow definitions stored in the run store (always, with --flows too)',
    },
    ...DEFINITION_OPTIONS,
    ...RUNS_OPTIONS,
    board: BOARD_OPTION,
    concurrency: {
      type: 'string',
      value: 'N',
      description: 'jobs run at once (1..1000, default 1)',
    },
    name: {
      type: 'string',
      value: 'NAME',
      description: 'the conductor name, unique among live conductors (default: a random one)',
    },
    json: {
      ...JSON_OPTION,
      description: 'print each event as one JSON line instead of a log line',
    },
  },
  async run(args, io) {
    const module = flowsModule(args);
    if (module === undefined && args.values.definitions !== true) {
      throw new UsageError(
        '"taskflow conductor" needs --flows MODULE, the module that exports the FlowRegistry of the jobs\' flows, or --definitions to run stored flow definitions only; see "taskflow conductor --help".',
      );
    }
    const concurrency = integerOption(args, 'concurrency') ?? 1;
    if (concurrency < 1 || concurrency > 1000) {
      throw new UsageError(`Option --concurrency must be from 1 to 1000, got ${concurrency}.`);
    }
    const flows = module === undefined ? undefined : ((await loadRegistry(module)) as FlowRegistry);
    const name = stringOption(args, 'name');
    const json = args.values.json === true;
    const url = chosenRunsUrl(runsUrl(args), io, true);
    await withRunStore(
      url,
      io,
      (runs) =>
        // Runs of stored definitions are rebuilt from their documents, beside the module's flows.
        withDefinitions(args, io, url, flows, (registry) =>
          withJobBoard(
            stringOption(args, 'board'),
            io,
            async (board) => {
              // Opened once the banner is printed, so the banner is a plain line above it.
              let status: ConductorStatusLine | undefined;
              const conductor = new Conductor({
                board,
                runs,
                registry,
                concurrency,
                ...(name === undefined ? {} : { name }),
                onEvent: (event) => report(io, { json, status }, event),
              });
              if (!json) {
                io.stdout(
                  `${safeText(`Conductor ${conductor.name} is running ${concurrency} job(s) at a time; SIGTERM or SIGINT stops it.`)}\n`,
                );
              }
              if (!json && io.terminal !== undefined) {
                status = new ConductorStatusLine(openLiveLine(io.terminal), board);
                status.start(conductor);
              }
              try {
                await conductor.run({ stopOnSignals: true });
              } finally {
                status?.stop();
              }
            },
            { create: true },
          ),
        ),
      { create: true },
    );
  },
};

/**
 * Prints one event: a JSON line with `--json`; else a log line, above the status line on a
 * terminal.
 */
function report(
  io: CliIo,
  output: { readonly json: boolean; readonly status: ConductorStatusLine | undefined },
  event: ConductorEvent,
): void {
  if (output.json) {
    io.stdout(`${JSON.stringify(eventJson(event))}\n`);
    return;
  }
  const line = `${formatTime(Date.now())}  ${safeText(describe(event))}`;
  if (output.status === undefined) io.stdout(`${line}\n`);
  else output.status.report(event, line);
}

function describe(event: ConductorEvent): string {
  switch (event.type) {
    case 'claimed':
      return `claimed job ${event.job.id} (${event.job.name}) with token ${event.token}`;
    case 'completed':
      return `completed job ${event.job.id} (${event.job.name}): ${event.outcome.state}${event.outcome.failure ? ` (${event.outcome.failure.type}: ${event.outcome.failure.message})` : ''}`;
    case 'abandoned':
      return `gave back job ${event.job.id} (${event.job.name}): ${event.reason}`;
    case 'lost':
      return `lost job ${event.jobId}: ${messageOf(event.error)}`;
    case 'error':
      return `error: ${messageOf(event.error)}`;
    case 'stopped':
      return 'stopped';
  }
}

function eventJson(event: ConductorEvent): Record<string, unknown> {
  switch (event.type) {
    case 'lost':
      return { type: event.type, jobId: event.jobId, error: messageOf(event.error) };
    case 'error':
      return { type: event.type, error: messageOf(event.error) };
    default:
      return { ...event };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
