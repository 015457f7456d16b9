import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { TaskFlowError } from '../core/errors.ts';
import type { JsonValue } from '../core/failure.ts';
import type { FlowRef } from '../core/flow-ref.ts';
import type { AppliedRequest } from '../core/operator-request.ts';
import type { FlowState } from '../core/states.ts';
import type { LeaseFence } from '../core/task.ts';
import type { AtomDetail, FlowDetail, LogBook } from '../persistence/model.ts';
import type { RunJournal } from '../persistence/ports.ts';
import { applyDetail, toDetail } from './atom-detail-codec.ts';
import { type AtomRecord, clearAtomRecord } from './atom-record.ts';
import {
  ClaimLeaseKeeper,
  type HeldLease,
  type LeaseKeeper,
  RunLeaseKeeper,
  SentAt,
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

/** The operator requests a run has applied or refused, oldest first (`meta.actions`). */
export function auditList(flow: Pick<FlowDetail, 'meta'>): readonly AppliedRequest[] {
  const actions = flow.meta.actions;
  return Array.isArray(actions) ? (actions as unknown as AppliedRequest[]) : [];
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
  /** The flow detail changed since it was last written: the next flush writes it. */
  #flowStaged = false;
  #keeper: LeaseKeeper | undefined;
  #lost: unknown;
  /** Atom writes not yet sent: the engine flushes them before any atom's code runs. */
  #staged: { readonly record: AtomRecord; readonly detail: AtomDetail }[] = [];
  /** What the store holds for each atom, to put a record back when a write is lost for good. */
  readonly #persisted = new Map<string, AtomDetail>();
  /** Operator requests recorded before the run was opened, for its audit list. */
  #unrecorded: AppliedRequest[] = [];

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
   * Creates the flow detail if it is new, takes the lease and loads the run under it, in one
   * call of the run store, and applies its atom details to `records`. Returns the stored flow
   * state and store.
   */
  async open(
    flowName: string,
    store: Readonly<Record<string, unknown>>,
    records: readonly AtomRecord[],
    onLost: (error: unknown) => void,
  ): Promise<{ state: FlowState; store: Record<string, unknown> }> {
    this.#lost = undefined;
    const lost = (error: unknown): void => {
      this.#lost ??= error;
      onLost(error);
    };
    const { claim } = this.#options;
    const clock = this.#clock;
    const ttlMs = this.#ttlMs;
    const request = {
      ...this.#newRun(flowName, store),
      owner: this.#owner,
      ttlMs,
      ...(claim ? { fence: claim.token } : {}),
    };
    let sent = new SentAt(clock);
    const opened = await this.#retrying(() => {
      sent = new SentAt(clock);
      return this.#runs.openRun(request);
    });
    const runs = this.#runs;
    const { lease } = opened;
    this.#keeper = claim
      ? new ClaimLeaseKeeper({ store: runs, claim, lease, ttlMs })
      : new RunLeaseKeeper({ store: runs, clock, ttlMs, lease, sent, onLost: lost });
    this.#detail = opened.flow;
    this.#flowStaged = false;
    for (const entry of this.#unrecorded.splice(0)) this.recordAction(entry);
    const byName = new Map(records.map((record) => [record.atom.name, record]));
    this.#persisted.clear();
    try {
      for (const detail of opened.atoms) {
        this.#persisted.set(detail.name, detail);
        const record = byName.get(detail.name);
        if (record) applyDetail(record, detail, this.#options.allowVersionChange === true);
      }
    } catch (error) {
      await this.close();
      throw error;
    }
    return { state: opened.flow.state, store: { ...opened.flow.store } };
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

  /** Queues the flow's new state for the next {@link PersistedRun.flush}. */
  stageFlow(state: FlowState): void {
    this.#detail = { ...(this.#detail as FlowDetail), state, updatedAt: this.#clock.now() };
    this.#flowStaged = true;
  }

  /**
   * Adds an operator's request to the run's audit list (`meta.actions` of the flow detail),
   * written with the next flush; a request already listed (by id: applied again after a crash)
   * is not listed twice.
   */
  recordAction(entry: AppliedRequest): void {
    const detail = this.#detail;
    if (detail === undefined) {
      this.#unrecorded.push(entry);
      return;
    }
    const listed = auditList(detail);
    if (listed.some((action) => action.id === entry.id)) return;
    const actions = [...listed, entry] as unknown as JsonValue;
    this.#detail = { ...detail, meta: { ...detail.meta, actions }, updatedAt: this.#clock.now() };
    this.#flowStaged = true;
  }

  /**
   * Writes the queued atom states, then the queued flow state, in one batch; with `release`,
   * gives the lease up in the same write. Undefined when there is nothing to write.
   */
  flush(options: { readonly release?: boolean } = {}): Promise<void> | undefined {
    const release = options.release === true;
    if (this.#staged.length === 0 && !this.#flowStaged && !release) return undefined;
    const batch = this.#staged;
    this.#staged = [];
    const flow = this.#flowStaged ? this.#detail : undefined;
    this.#flowStaged = false;
    const details = batch.map((entry) => entry.detail);
    const keeper = this.#requireKeeper();
    const write = { ...(flow ? { flow } : {}), release };
    // A retried batch is safe to apply twice: every write in it repeats a state or a legal step.
    const save = (): Promise<void> =>
      this.#retrying(() => this.#runs.saveAtoms(this.flowId, details, keeper.lease, write));
    const confirmed = keeper.confirm();
    const saving =
      confirmed === true
        ? save()
        : confirmed.then((held) => {
            if (held) return save();
            this.#lost ??= leaseLost(this.flowId, 'writing');
            throw this.#lost;
          });
    return saving.then(
      () => {
        for (const detail of details) this.#persisted.set(detail.name, detail);
        if (release && this.#keeper === keeper) {
          this.#keeper = undefined;
          keeper.released();
        }
      },
      (error: unknown) => {
        // The writes are lost for good: put each record back to what the store holds, so the
        // engine never reports a state that a new process would not find.
        for (const { record } of batch) this.#restore(record);
        if (flow) this.#flowStaged = true;
        throw error;
      },
    );
  }

  /** The logbook and the flow detail this run is created with when it is new. */
  #newRun(
    flowName: string,
    store: Readonly<Record<string, unknown>>,
  ): { book: LogBook; flow: FlowDetail } {
    const now = this.#clock.now();
    const logbook = this.#options.logbook ?? { id: `logbook-${this.flowId}`, name: flowName };
    const flow: FlowDetail = {
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
    return { book, flow };
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

function leaseLost(flowId: string, before = 'starting atom code'): TaskFlowError {
  return new TaskFlowError(
    'LEASE_LOST',
    `The lease on run "${flowId}" could not be confirmed before ${before} (this process may have been paused); the run stopped so that a newer owner can continue it.`,
    { retryable: true },
  );
}
