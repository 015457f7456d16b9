import type { Clock } from '../core/clock.ts';
import type { AtomRecord } from './atom-record.ts';
import type { CompiledGraph } from './compile.ts';
import type { EventBus } from './events.ts';
import type { ProviderIndex } from './providers.ts';
import type { EngineStatistics } from './statistics.ts';

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
  /** Prefix of idempotency keys: the flow detail id. */
  readonly runId: string;
  readonly statistics: EngineStatistics;
  /** Reports an error that must not stop the run (a throwing listener, decider or retry decision). */
  readonly reportError: (error: unknown) => void;
  /** Why a result cannot be persisted (as the error its task fails with), or undefined. */
  unstorable(atom: string, value: unknown): Error | undefined;
  /** True when state changes are persisted (events then wait for their writes). */
  readonly durable: boolean;
  /** Queues an atom record's state to be persisted (a no-op without persistence). */
  stage(record: AtomRecord): void;
  /**
   * Persists what was staged, in one batch. The scheduler awaits it before any atom's code runs
   * and before it waits for running atoms, so a result is on disk before its dependents start.
   */
  flush(): Promise<void> | undefined;
}
