import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { TaskFlowError } from '../core/errors.ts';
import type { JsonValue } from '../core/failure.ts';
import type { FlowRef } from '../core/flow-ref.ts';
import type { FlowState } from '../core/states.ts';
import type { LeaseFence } from '../core/task.ts';
import type { AtomDetail, FlowDetail } from '../persistence/model.ts';
import type { RunJournal } from '../persistence/ports.ts';
import { applyDetail, toDetail } from './atom-detail-codec.ts';
import { type AtomRecord, clearAtomRecord } from './atom-record.ts';
import {
  ClaimLeaseKeeper,
  type HeldLease,
  type LeaseKeeper,
  RunLeaseKeeper,
} from './lease-keeper.ts';
import { retryingUnavailable } from './unavailable-retry.ts';

/**
 * Where and how an engine persists its run (the engine's `persistence` option).
 *
 * @example
 * const engine = new Engine(flow, { persistence: { runs, flowId: 'order-42', leaseTtlMs: 10_000 } });
 */
export interface PersistenceOptions {
  /** The run store the run is written to. */
  readonly runs?: RunJournal;
  /** @deprecated Use `runs`; this spelling is read for one more release. */
  readonly store?: RunJournal;
  /** The flow detail to create or continue; the engine's `runId` by default. */
  readonly flowId?: string;
  /** The logbook the run is recorded in; one named after the flow by default. */
  readonly logbook?: { readonly id: string; readonly name?: string };
  /** How a fresh process rebuilds the flow (see `FlowRegistry`). */
  readonly factory?: FlowRef;
  readonly meta?: Readonly<Record<string, JsonValue>>;
  /** Who holds the lease while running; a random id by default. */
  readonly owner?: string;
  /** How long the lease lasts without a heartbeat. Default 30 s; heartbeats every third of it. */
  readonly leaseTtlMs?: number;
  /** Continue a run whose atoms were recorded with another version. Default false. */
  readonly allowVersionChange?: boolean;
  /**
   * The job claim that carries this run (set by a conductor): its token fences the run's
   * writes and its heartbeat keeps the run's lease, so the run has no lease of its own.
   */
  readonly claim?: HeldLease;
}

/** The run store of persistence options, under either spelling. */
export function runsOf(options: Pick<PersistenceOptions, 'runs' | 'store'>): RunJournal {
  const runs = options.runs ?? options.store;
  if (!runs) {
    throw new TaskFlowError(
      'INVALID_ARGUMENT',
      'Engine option "persistence" names no run store; pass persistence.runs (for example the store returned by openRunStore).',
    );
  }
  return runs;
}

/**
 * The engine's side of a persisted run: opens it under its lease (loading what earlier
 * engines left, always after the lease is held, so nothing stale is continued), and writes
 * every state change with the lease. A write that fails because the backend is briefly
 * unavailable is retried with bounded backoff; anything else stops the run.
 */
export class PersistedRun {
  readonly flowId: string;
  readonly #options: PersistenceOptions;
  readonly #runs: RunJournal;
  readonly #clock: Clock;
  readonly #owner: string;
  readonly #ttlMs: number;
  #detail: FlowDetail | undefined;
  #keeper: LeaseKeeper | undefined;
  #lost: unknown;
  /** Atom writes not yet sent: the engine flushes them before any atom's code runs. */
  #staged: { readonly record: AtomRecord; readonly detail: AtomDetail }[] = [];
  /** What the store holds for each atom, to put a record back when a write is lost for good. */
  readonly #persisted = new Map<string, AtomDetail>();

  constructor(options: PersistenceOptions, runId: string, clock: Clock) {
    this.flowId = options.flowId ?? runId;
    this.#options = options;
    this.#runs = runsOf(options);
    this.#clock = clock;
    this.#owner = options.owner ?? `engine-${randomUUID()}`;
    this.#ttlMs = options.leaseTtlMs ?? 30_000;
  }

  /** Set once the lease was found lost: the run must stop and report it. */
  get lost(): unknown {
    return this.#lost;
  }

  /**
   * Creates the flow detail if it is new, takes the lease, then loads the run and applies its
   * atom details to `records`. Returns the stored flow state and store.
   */
  async open(
    flowName: string,
    store: Readonly<Record<string, unknown>>,
    records: readonly AtomRecord[],
    onLost: (error: unknown) => void,
  ): Promise<{ state: FlowState; store: Record<string, unknown> }> {
    await this.#ensureFlow(flowName, store);
    this.#lost = undefined;
    const lost = (error: unknown): void => {
      this.#lost ??= error;
      onLost(error);
    };
    const { claim } = this.#options;
    const lease = { store: this.#runs, clock: this.#clock, flowId: this.flowId };
    const owner = this.#owner;
    this.#keeper = claim
      ? await ClaimLeaseKeeper.acquire({ ...lease, owner, ttlMs: this.#ttlMs, claim })
      : await RunLeaseKeeper.acquire({ ...lease, owner, ttlMs: this.#ttlMs, onLost: lost });
    try {
      const loaded = await this.#retrying(() => this.#runs.loadRun(this.flowId));
      if (!loaded) throw new TaskFlowError('RUN_NOT_FOUND', `Run "${this.flowId}" vanished.`);
      this.#detail = loaded.flow;
      const byName = new Map(records.map((record) => [record.atom.name, record]));
      this.#persisted.clear();
      for (const detail of loaded.atoms) {
        this.#persisted.set(detail.name, detail);
        const record = byName.get(detail.name);
        if (record) applyDetail(record, detail, this.#options.allowVersionChange === true);
      }
      return { state: loaded.flow.state, store: { ...loaded.flow.store } };
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Gives the lease up (the run stays as written). */
  async close(): Promise<void> {
    const keeper = this.#keeper;
    this.#keeper = undefined;
    await keeper?.release();
  }

  /**
   * True when atom code may start: the lease is certainly held for the safety margin, renewed
   * first when it is not. False when the lease is lost; the run must then stop.
   */
  admit(): true | Promise<boolean> {
    const keeper = this.#requireKeeper();
    const admitted = keeper.admit();
    if (admitted === true) return true;
    return admitted.then((ok) => {
      if (!ok) this.#lost ??= leaseLost(this.flowId);
      return ok;
    });
  }

  /** What atom code is told of the lease. */
  fence(): LeaseFence | undefined {
    return this.#keeper?.fence();
  }

  /** Queues the record's current state for the next {@link PersistedRun.flush}. */
  stage(record: AtomRecord): void {
    this.#staged.push({ record, detail: toDetail(record, this.#clock.now()) });
  }

  /** Writes the queued atom states in one batch; undefined when nothing is queued. */
  flush(): Promise<void> | undefined {
    if (this.#staged.length === 0) return undefined;
    const batch = this.#staged;
    this.#staged = [];
    const details = batch.map((entry) => entry.detail);
    // A retried batch is safe to apply twice: every write in it repeats a state or a legal step.
    return this.#retrying(() =>
      this.#runs.saveAtoms(this.flowId, details, this.#requireKeeper().lease),
    ).then(
      () => {
        for (const detail of details) this.#persisted.set(detail.name, detail);
      },
      (error: unknown) => {
        // The writes are lost for good: put each record back to what the store holds, so the
        // engine never reports a state that a new process would not find.
        for (const { record } of batch) this.#restore(record);
        throw error;
      },
    );
  }

  saveFlow(state: FlowState): Promise<void> {
    const detail: FlowDetail = {
      ...(this.#detail as FlowDetail),
      state,
      updatedAt: this.#clock.now(),
    };
    this.#detail = detail;
    return this.#retrying(() => this.#runs.saveFlow(detail, this.#requireKeeper().lease));
  }

  async #ensureFlow(flowName: string, store: Readonly<Record<string, unknown>>): Promise<void> {
    const now = this.#clock.now();
    const logbook = this.#options.logbook ?? { id: `logbook-${this.flowId}`, name: flowName };
    const wanted: FlowDetail = {
      id: this.flowId,
      logbookId: logbook.id,
      name: flowName,
      state: 'PENDING',
      store: store as Record<string, JsonValue>,
      ...(this.#options.factory ? { factory: this.#options.factory } : {}),
      meta: this.#options.meta ?? {},
      createdAt: now,
      updatedAt: now,
    };
    const book = {
      id: logbook.id,
      name: logbook.name ?? flowName,
      meta: {},
      createdAt: now,
      updatedAt: now,
    };
    await this.#retrying(() => this.#runs.ensureFlow(book, wanted));
  }

  #restore(record: AtomRecord): void {
    const stored = this.#persisted.get(record.atom.name);
    if (stored) {
      applyDetail(record, stored, true);
      return;
    }
    clearAtomRecord(record);
    record.attempts = 0;
    record.history = [];
  }

  #requireKeeper(): LeaseKeeper {
    if (!this.#keeper) {
      throw new TaskFlowError(
        'NO_LEASE',
        `Run "${this.flowId}" is written without holding its lease; this is a bug in the engine.`,
      );
    }
    return this.#keeper;
  }

  #retrying<T>(call: () => Promise<T>): Promise<T> {
    return retryingUnavailable(this.#clock, call);
  }
}

function leaseLost(flowId: string): TaskFlowError {
  return new TaskFlowError(
    'LEASE_LOST',
    `The lease on run "${flowId}" could not be confirmed before starting atom code (this process may have been paused); the run stopped so that a newer owner can continue it.`,
    { retryable: true },
  );
}
