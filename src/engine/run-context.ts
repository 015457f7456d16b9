import type { Clock } from '../core/clock.ts';
import type { LeaseFence } from '../core/task.ts';
import type { AtomRecord } from './atom-record.ts';
import type { CompiledGraph } from './compile.ts';
import type { EventBus } from './events.ts';
import type { Executors } from './executor.ts';
import type { ProviderIndex } from './providers.ts';
import type { EngineStatistics } from './statistics.ts';

/**
 * Which of the atoms ready to revert together goes first: 'newest-first' (by completion
 * order, persisted, so the same across resumes) or 'priority' (TaskFlow's: a step's atoms by
 * priority, reverts and executions alike). Dependencies are respected by both.
 */
export type RevertOrder = 'newest-first' | 'priority';

/** How a "REVERT" decision of a nested retry is carried out. */
export type RevertScope = 'enclosing' | 'subflow';

/** What one run of the engine shares with the scheduler. */
export interface RunContext {
  readonly graph: CompiledGraph;
  readonly providers: ProviderIndex;
  /** By node index; undefined for virtual nodes. */
  readonly records: readonly (AtomRecord | undefined)[];
  /** By node index, by argument: the nearest providers found when validating. */
  readonly argumentProviders: readonly (readonly (readonly number[] | undefined)[] | undefined)[];
  readonly store: Readonly<Record<string, unknown>>;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly random: () => number;
  readonly concurrency: number;
  readonly revertScope: RevertScope;
  readonly haltOnFailure: boolean;
  /** Resolve a failure at once, so that atoms it will revert do not start (default true). */
  readonly failFast: boolean;
  readonly revertOrder: RevertOrder;
  /** Prefix of idempotency keys: the flow detail id. */
  readonly runId: string;
  readonly statistics: EngineStatistics;
  /** Reports an error that must not stop the run (a throwing listener, decider or retry decision). */
  readonly reportError: (error: unknown) => void;
  /** Where the run's state changes go. */
  readonly checkpoint: Checkpoint;
  /** Where each atom's code runs. */
  readonly executors: Executors;
}

/**
 * How the scheduler persists a run, in one place: a no-op for runs kept in memory, a
 * `PersistedRun` behind it for persisted ones.
 */
export interface Checkpoint {
  /** True when state changes are persisted (events then wait for their writes). */
  readonly durable: boolean;
  /** Queues an atom record's state to be persisted. */
  stage(record: AtomRecord): void;
  /**
   * Persists what was staged, in one batch. The scheduler awaits it before any atom's code runs
   * and before it waits for running atoms, so a result is on disk before its dependents start.
   * With `release`, the run's lease is given up in the same write (the run's last one).
   */
  flush(options?: { readonly release?: boolean }): Promise<void> | undefined;
  /** Why a result cannot be persisted (as the error its task fails with), or undefined. */
  unstorable(atom: string, value: unknown): Error | undefined;
  /**
   * Asked right before atom code starts: true when the run's lease is certainly held for the
   * safety margin (renewing it first if needed); false when it is lost, and the run must stop.
   */
  admit(): true | Promise<boolean>;
  /** What atom code is told of the lease, or undefined in memory. */
  fence(): LeaseFence | undefined;
}
