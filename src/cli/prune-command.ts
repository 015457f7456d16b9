import { JSON_OPTION } from './backends.ts';
import {
  type CliIo,
  type Command,
  type CommandArgs,
  commandName,
  durationOption,
  integerOption,
  listOption,
  type OptionSpec,
  UsageError,
} from './command.ts';
import { openLiveLine } from './live-line.ts';
import { printJson } from './output.ts';

/** One batch of a prune: records last updated before `before`, in `states`, `limit` at most. */
export interface PruneBatchQuery<S extends string> {
  readonly before: number;
  readonly states: readonly S[];
  readonly limit?: number;
}

/** Deletes one batch; `more` says whether another batch may find more. */
export type PruneBatch<S extends string> = (
  query: PruneBatchQuery<S>,
) => Promise<{ readonly deleted: readonly string[]; readonly more: boolean }>;

/** What one `taskflow GROUP prune` deletes, from which backend. */
export interface PruneTarget<S extends string> {
  readonly group: string;
  readonly summary: string;
  /** The options that name the backend, e.g. `--runs` or `--board`. */
  readonly backendOptions: Readonly<Record<string, OptionSpec>>;
  /** What the records are called in help, plural: `runs`, `jobs`. */
  readonly records: string;
  /** What one deleted record is called in the summary line: `run`, `finished job`. */
  readonly deletedNoun: string;
  /** The states that may be pruned, and those pruned when `--state` is not given. */
  readonly states: { readonly allowed: readonly S[]; readonly defaults: readonly S[] };
  /** What `--state` says in help. */
  readonly stateDescription: string;
  /** Opens the backend the command line names and hands `use` its prune of one batch. */
  readonly withBackend: <T>(
    args: CommandArgs,
    io: CliIo,
    use: (prune: PruneBatch<S>) => Promise<T>,
  ) => Promise<T>;
}

/**
 * A `prune` command: deletes, batch after batch, the records of `target` last updated longer
 * ago than `--older-than`, and prints how many (or their ids with `--json`). On a terminal a
 * progress line counts the deletions meanwhile.
 */
export function pruneCommand<S extends string>(target: PruneTarget<S>): Command {
  const command: Command = {
    group: target.group,
    name: 'prune',
    summary: target.summary,
    positionals: [],
    options: {
      ...target.backendOptions,
      'older-than': {
        type: 'string',
        value: 'DURATION',
        description: `required: ${target.records} last updated longer ago than this, e.g. 30d, 12h`,
      },
      state: {
        type: 'string',
        multiple: true,
        value: 'STATE',
        description: target.stateDescription,
      },
      batch: {
        type: 'string',
        value: 'N',
        description: `${target.records} deleted per call (1..1000, default 100)`,
      },
      json: JSON_OPTION,
    },
    async run(args, io) {
      const olderThanMs = durationOption(args, 'older-than');
      if (olderThanMs === undefined) {
        const name = commandName(command);
        throw new UsageError(
          `"${name}" needs --older-than DURATION, e.g. --older-than 30d; see "${name} --help".`,
        );
      }
      const given = listOption(args, 'state', target.states.allowed);
      const states = given.length > 0 ? given : target.states.defaults;
      const limit = integerOption(args, 'batch');
      const json = args.values.json === true;
      const progress =
        json || io.terminal === undefined
          ? undefined
          : openLiveLine(io.terminal, { clearOnStop: true });
      const deleted = await target.withBackend(args, io, async (prune) => {
        const all: string[] = [];
        // The cutoff is fixed once, so records finishing meanwhile are not chased batch after batch.
        const before = Date.now() - olderThanMs;
        try {
          for (let batches = 1; ; batches++) {
            progress?.show(`Pruning ${target.records}: ${all.length} deleted, batch ${batches}…`);
            const batch = await prune({
              before,
              states,
              ...(limit === undefined ? {} : { limit }),
            });
            all.push(...batch.deleted);
            if (!batch.more) return all;
          }
        } finally {
          progress?.stop();
        }
      });
      if (json) printJson(io, { deleted });
      else
        io.stdout(
          `Deleted ${deleted.length} ${target.deletedNoun}${deleted.length === 1 ? '' : 's'}.\n`,
        );
    },
  };
  return command;
}
