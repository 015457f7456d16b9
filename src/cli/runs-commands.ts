import {
  type AtomDetail,
  auditList,
  FENCED_LEASE_EXPIRY,
  FLOW_STATES,
  type FlowDetail,
  type FlowRegistry,
  type FlowState,
  isStorageError,
  type RunStore,
  resumeRun,
} from '../index.ts';
import { BOARD_OPTION, JSON_OPTION, RUNS_OPTIONS, runsUrl, withRunStore } from './backends.ts';
import {
  type Command,
  NotFoundError,
  pageQuery,
  pagingOptions,
  positional,
  stringOption,
  stringsOption,
  UsageError,
} from './command.ts';
import { flowsModule, flowsOptions, loadRegistry } from './flow-argument.ts';
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
import { askRunAction } from './run-action-commands.ts';

const list: Command = {
  group: 'runs',
  name: 'list',
  summary: 'list runs (flow details) in a run store, oldest first',
  positionals: [],
  options: {
    ...RUNS_OPTIONS,
    unfinished: {
      type: 'boolean',
      description: 'only runs that are not SUCCESS or REVERTED (what to resume after a crash)',
    },
    state: {
      type: 'string',
      multiple: true,
      value: 'STATE',
      description: 'only runs in this flow state; repeat for several (e.g. --state SUSPENDED)',
    },
    ...pagingOptions('runs'),
    json: JSON_OPTION,
  },
  async run(args, io) {
    const states = stringsOption(args, 'state').map((s) => s.toUpperCase() as FlowState);
    const page = await withRunStore(runsUrl(args), io, (store) =>
      store.listFlows({
        ...(args.values.unfinished === true ? { unfinished: true } : {}),
        ...(states.length > 0 ? { states } : {}),
        ...pageQuery(args),
      }),
    );
    printPage(io, args.values.json === true, page, {
      noun: 'runs',
      headers: ['ID', 'NAME', 'STATE', 'FACTORY', 'UPDATED'],
      row: runRow,
    });
  },
};

const show: Command = {
  group: 'runs',
  name: 'show',
  summary: 'show one run and each of its atoms',
  positionals: ['ID'],
  options: { ...RUNS_OPTIONS, json: JSON_OPTION },
  async run(args, io) {
    const id = positional(args, 0);
    const [run, lease] = await withRunStore(runsUrl(args), io, async (store) => [
      await store.loadRun(id),
      await store.readLease(id),
    ]);
    if (run === undefined) {
      throw new NotFoundError(
        `No run with id "${id}" is in this run store; "taskflow runs list" shows the ids it holds.`,
      );
    }
    if (args.values.json === true) {
      printJson(io, { ...run, lease: lease ?? null });
      return;
    }
    printFields(io, [...flowFields(run.flow), ...leaseFields(lease, Date.now())]);
    io.stdout('\n');
    if (run.atoms.length === 0) {
      io.stdout('No atom has been recorded yet.\n');
      return;
    }
    printTable(
      io,
      ['ATOM', 'KIND', 'STATE', 'INTENTION', 'ATTEMPTS', 'RESULT / FAILURE'],
      run.atoms.map(atomRow),
    );
    const actions = auditList(run.flow);
    if (actions.length === 0) return;
    io.stdout('\n');
    printTable(
      io,
      ['ASKED', 'BY', 'ACTION', 'ATOM', 'APPLIED', 'REASON / REFUSED'],
      actions.map((entry) => [
        formatTime(entry.at),
        entry.by,
        entry.action,
        entry.atom ?? '-',
        formatTime(entry.appliedAt),
        entry.refused === undefined ? (entry.reason ?? '') : `refused: ${entry.refused}`,
      ]),
    );
  },
};

function runRow(flow: FlowDetail): string[] {
  return [flow.id, flow.name, flow.state, factoryText(flow), formatTime(flow.updatedAt)];
}

function factoryText(flow: FlowDetail): string {
  return flow.factory === undefined ? '-' : `${flow.factory.name}@${flow.factory.version}`;
}

function flowFields(flow: FlowDetail): [string, string][] {
  return [
    ['id', flow.id],
    ['name', flow.name],
    ['state', flow.state],
    ['factory', factoryText(flow)],
    ['logbook', flow.logbookId],
    ['store', summarizeValue(flow.store, 200)],
    ['meta', summarizeValue(flow.meta, 200)],
    ['created', formatTime(flow.createdAt)],
    ['updated', formatTime(flow.updatedAt)],
  ];
}

function atomRow(atom: AtomDetail): string[] {
  return [
    atom.name,
    atom.kind,
    atom.state,
    atom.intention,
    String(atom.attempts),
    atomOutcome(atom),
  ];
}

/** What the atom's last execution or revert left: the most telling of them. */
function atomOutcome(atom: AtomDetail): string {
  if (atom.revertFailure !== undefined)
    return `revert failed: ${summarizeFailure(atom.revertFailure)}`;
  if (atom.failure !== undefined) return `failed: ${summarizeFailure(atom.failure)}`;
  if ('result' in atom) return summarizeValue(atom.result);
  return '';
}

type RunLeaseInfo = NonNullable<Awaited<ReturnType<RunStore['readLease']>>>;

/** `lease owner` and `lease expires`: who may write the run, and until when. */
function leaseFields(lease: RunLeaseInfo | undefined, now: number): [string, string][] {
  if (lease === undefined) return [];
  const owner = lease.owner ?? '-';
  if (lease.carriedByJob || lease.expiresAt === FENCED_LEASE_EXPIRY) {
    const claim = lease.owner === null ? 'no claim holds it now' : `claim token ${lease.token}`;
    return [
      ['lease owner', owner],
      ['lease expires', `carried by job (${claim}; the job's claim expires instead)`],
    ];
  }
  if (lease.owner === null)
    return [
      ['lease owner', '-'],
      ['lease expires', '-'],
    ];
  const expired = lease.expiresAt <= now ? ' (expired)' : '';
  return [
    ['lease owner', owner],
    ['lease expires', `${formatTime(lease.expiresAt)}${expired}`],
  ];
}

const prune = pruneCommand<FlowState>({
  group: 'runs',
  summary: 'delete runs older than a duration, never a leased one',
  backendOptions: RUNS_OPTIONS,
  records: 'runs',
  deletedNoun: 'run',
  states: { allowed: FLOW_STATES, defaults: ['SUCCESS', 'REVERTED'] },
  stateDescription: 'flow states to delete, comma-separated or repeated (default SUCCESS,REVERTED)',
  withBackend: (args, io, use) =>
    withRunStore(runsUrl(args), io, (store) => use((query) => store.pruneRuns(query))),
});

/** Exit status of `taskflow runs resume` when the run ended REVERTED or FAILURE. */
export const RESUME_FAILED_STATUS = 3;

const resume: Command = {
  group: 'runs',
  name: 'resume',
  summary:
    'continue a run: ask the conductors to resume a SUSPENDED one, or with --flows run it in this process',
  positionals: ['ID'],
  options: {
    ...RUNS_OPTIONS,
    board: BOARD_OPTION,
    ...flowsOptions(
      'a module exporting the FlowRegistry (as "registry" or default) the run was started with: continue the run in this process instead of asking the conductors',
    ),
    by: {
      type: 'string',
      value: 'NAME',
      description:
        "who asks, for the run's audit list (default: $TASKFLOW_OPERATOR, else your user name)",
    },
    reason: { type: 'string', value: 'TEXT', description: "why, for the run's audit list" },
    json: JSON_OPTION,
  },
  async run(args, io) {
    const id = positional(args, 0);
    const module = flowsModule(args);
    if (module === undefined) {
      if (stringOption(args, 'board') === undefined && io.env.TASKFLOW_BOARD === undefined) {
        throw new UsageError(
          '"taskflow runs resume" needs --flows MODULE (the module that exports the run\'s FlowRegistry) to continue the run in this process, or --board URL (or $TASKFLOW_BOARD) to ask the conductors to resume it; see "taskflow runs resume --help".',
        );
      }
      return askRunAction(args, io, 'resume');
    }
    const registry = (await loadRegistry(module)) as FlowRegistry;
    const ended = await withRunStore(runsUrl(args), io, async (store) => {
      if ((await store.loadRun(id)) === undefined) {
        throw new NotFoundError(
          `No run with id "${id}" is in this run store; "taskflow runs list --unfinished" shows the runs to resume.`,
        );
      }
      const engine = await resumeRun({ runs: store, registry, flowId: id });
      try {
        const result = await engine.run();
        return { state: result.state as FlowState, failure: undefined };
      } catch (error) {
        // Storage refusals (LEASE_HELD, FENCED, ...) are the CLI's errors; a task's failure is
        // how the run ended.
        if (isStorageError(error)) throw error;
        const flow = (await store.loadRun(id))?.flow;
        if (flow === undefined || (flow.state !== 'REVERTED' && flow.state !== 'FAILURE'))
          throw error;
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        return { state: flow.state, failure: message };
      }
    });
    if (args.values.json === true)
      printJson(io, { id, state: ended.state, failure: ended.failure ?? null });
    else
      io.stdout(
        `${safeText(`Run ${id} ended ${ended.state}${ended.failure === undefined ? '' : `: ${ended.failure}`}`)}.\n`,
      );
    return ended.state === 'SUCCESS' || ended.state === 'SUSPENDED' ? 0 : RESUME_FAILED_STATUS;
  },
};

export const runsCommands: readonly Command[] = [list, show, resume, prune];
