import type { AtomDetail, FlowDetail, FlowState } from '../index.ts';
import { JSON_OPTION, STORE_OPTION, withRunStore } from './backends.ts';
import {
  type Command,
  integerOption,
  NotFoundError,
  positional,
  stringOption,
  stringsOption,
} from './command.ts';
import {
  formatTime,
  printFields,
  printJson,
  printNextHint,
  printTable,
  summarizeFailure,
  summarizeValue,
} from './output.ts';

const list: Command = {
  group: 'runs',
  name: 'list',
  summary: 'list runs (flow details) in a run store, oldest first',
  positionals: [],
  options: {
    store: STORE_OPTION,
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
    limit: { type: 'string', value: 'N', description: 'at most N runs (1..1000, default 100)' },
    after: { type: 'string', value: 'CURSOR', description: 'the page after this cursor' },
    json: JSON_OPTION,
  },
  async run(args, io) {
    const limit = integerOption(args, 'limit');
    const after = stringOption(args, 'after');
    const states = stringsOption(args, 'state').map((s) => s.toUpperCase() as FlowState);
    const page = await withRunStore(stringOption(args, 'store'), io, (store) =>
      store.listFlows({
        ...(args.values.unfinished === true ? { unfinished: true } : {}),
        ...(states.length > 0 ? { states } : {}),
        ...(limit === undefined ? {} : { limit }),
        ...(after === undefined ? {} : { after }),
      }),
    );
    if (args.values.json === true) {
      printJson(io, { items: page.items, next: page.next ?? null });
      return;
    }
    if (page.items.length === 0) {
      io.stdout('No runs match.\n');
      return;
    }
    printTable(io, ['ID', 'NAME', 'STATE', 'FACTORY', 'UPDATED'], page.items.map(runRow));
    printNextHint(io, page.next, 'runs');
  },
};

const show: Command = {
  group: 'runs',
  name: 'show',
  summary: 'show one run and each of its atoms',
  positionals: ['ID'],
  options: { store: STORE_OPTION, json: JSON_OPTION },
  async run(args, io) {
    const id = positional(args, 0);
    const run = await withRunStore(stringOption(args, 'store'), io, (store) => store.loadRun(id));
    if (run === undefined) {
      throw new NotFoundError(
        `No run with id "${id}" is in this run store; "taskflow runs list" shows the ids it holds.`,
      );
    }
    if (args.values.json === true) {
      printJson(io, run);
      return;
    }
    printFields(io, flowFields(run.flow));
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

export const runsCommands: readonly Command[] = [list, show];
