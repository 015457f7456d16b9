import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { TaskFlowError } from '../core/errors.ts';
import { Failure, type JsonValue } from '../core/failure.ts';
import type { FlowState } from '../core/states.ts';
import type { AtomDetail, FlowDetail, FlowFactoryRef } from '../persistence/model.ts';
import type { Lease, RunStore } from '../persistence/ports.ts';
import { type AtomRecord, clearAtomRecord } from './atom-record.ts';

/** Where and how an engine persists its run. */
export interface PersistenceOptions {
  readonly store: RunStore;
  /** The flow detail to create or continue; the engine's `runId` by default. */
  readonly flowId?: string;
  /** The logbook the run is recorded in; one named after the flow by default. */
  readonly logbook?: { readonly id: string; readonly name?: string };
  /** How a fresh process rebuilds the flow (see `FlowRegistry`). */
  readonly factory?: FlowFactoryRef;
  readonly meta?: Readonly<Record<string, JsonValue>>;
  /** Who holds the lease while running; a random id by default. */
  readonly owner?: string;
  /** How long the lease lasts without a heartbeat. Default 30 s; heartbeats every third of it. */
  readonly leaseTtlMs?: number;
  /** Continue a run whose atoms were recorded with another version. Default false. */
  readonly allowVersionChange?: boolean;
  /** The run as the caller has just loaded it (`resumeRun`, a conductor), so it is not loaded twice. */
  readonly snapshot?: { readonly flow: FlowDetail; readonly atoms: readonly AtomDetail[] };
}

const UNAVAILABLE_ATTEMPTS = 6;
const RELEASED = Symbol('lease released');
const UNAVAILABLE_FIRST_DELAY_MS = 50;

/**
 * The engine's side of a persisted run: loads what a previous engine left, holds the lease,
 * and writes every state change through it. A write that fails because the backend is briefly
 * unavailable is retried with bounded backoff; anything else stops the run.
 */
export class DurableRun {
  readonly flowId: string;
  readonly #options: PersistenceOptions;
  readonly #clock: Clock;
  readonly #owner: string;
  readonly #ttlMs: number;
  #detail: FlowDetail | undefined;
  #lease: Lease | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #lost: ((error: unknown) => void) | undefined;
  /** Atom writes not yet sent: the engine flushes them before any atom's code runs. */
  #staged: { readonly record: AtomRecord; readonly detail: AtomDetail }[] = [];
  /** What the store holds for each atom, to put a record back when a write is lost for good. */
  readonly #persisted = new Map<string, AtomDetail>();

  constructor(options: PersistenceOptions, runId: string, clock: Clock) {
    this.flowId = options.flowId ?? runId;
    this.#options = options;
    this.#clock = clock;
    this.#owner = options.owner ?? `engine-${randomUUID()}`;
    this.#ttlMs = options.leaseTtlMs ?? 30_000;
  }

  get attached(): boolean {
    return this.#detail !== undefined;
  }

  /**
   * Creates the flow detail or loads the existing one, applying stored atom details to
   * `records`. Returns the stored flow state and store.
   */
  async attach(
    flowName: string,
    store: Readonly<Record<string, unknown>>,
    records: readonly AtomRecord[],
  ): Promise<{ state: FlowState; store: Record<string, unknown> }> {
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
    const { snapshot } = this.#options;
    this.#detail =
      snapshot?.flow ?? (await this.#retrying(() => this.#options.store.ensureFlow(book, wanted)));
    const loaded =
      snapshot ?? (await this.#retrying(() => this.#options.store.loadRun(this.flowId)));
    const byName = new Map(records.map((record) => [record.atom.name, record]));
    for (const detail of loaded?.atoms ?? []) {
      this.#persisted.set(detail.name, detail);
      const record = byName.get(detail.name);
      if (record) applyDetail(record, detail, this.#options.allowVersionChange === true);
    }
    return { state: this.#detail.state, store: { ...this.#detail.store } };
  }

  /** Takes the lease (refused while another live engine holds it) and keeps it alive until `release`. */
  async acquire(onLost: (error: unknown) => void): Promise<void> {
    this.#lease = await this.#retrying(() =>
      this.#options.store.acquireLease(this.flowId, this.#owner, this.#ttlMs),
    );
    this.#lost = onLost;
    this.#heartbeat = setInterval(
      () => void this.#renew(),
      Math.max(10, Math.floor(this.#ttlMs / 3)),
    );
    this.#heartbeat.unref();
  }

  async release(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    const lease = this.#lease;
    this.#lease = undefined;
    if (lease) await this.#options.store.releaseLease(lease).catch(() => undefined);
  }

  /** Queues the record's current state for the next {@link DurableRun.flush}. */
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
      this.#options.store.saveAtoms(this.flowId, details, this.#requireLease()),
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
    return this.#retrying(() => this.#options.store.saveFlow(detail, this.#requireLease()));
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

  async #renew(): Promise<void> {
    const lease = this.#lease;
    if (!lease) return;
    try {
      const renewed = await this.#retrying(() => {
        // Released while this renewal was retrying: extending the lease now would only make
        // the next engine wait for it.
        if (this.#lease === undefined) throw RELEASED;
        return this.#options.store.renewLease(lease, this.#ttlMs);
      });
      if (this.#lease !== undefined) this.#lease = renewed;
    } catch (error) {
      if (error === RELEASED) return;
      clearInterval(this.#heartbeat);
      this.#lost?.(error);
    }
  }

  #requireLease(): Lease {
    if (!this.#lease) {
      throw new TaskFlowError(
        'NO_LEASE',
        `Run "${this.flowId}" is written without holding its lease; this is a bug in the engine.`,
      );
    }
    return this.#lease;
  }

  /** Retries calls that failed because the backend is briefly unavailable; other errors pass through. */
  async #retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const retryable = (error as { retryable?: unknown }).retryable === true;
        if (!retryable || attempt >= UNAVAILABLE_ATTEMPTS) throw error;
        await this.#clock.sleep(UNAVAILABLE_FIRST_DELAY_MS * 2 ** (attempt - 1));
      }
    }
  }
}

function toDetail(record: AtomRecord, now: number): AtomDetail {
  return {
    name: record.atom.name,
    kind: record.atom.kind,
    version: record.atom.version,
    state: record.state,
    intention: record.intention,
    ...(record.hasResult && record.result !== undefined
      ? { result: record.result as JsonValue }
      : {}),
    ...(record.failure ? { failure: record.failure.toJSON() } : {}),
    ...(record.revertResult !== undefined
      ? { revertResult: record.revertResult as JsonValue }
      : {}),
    ...(record.revertFailure ? { revertFailure: record.revertFailure.toJSON() } : {}),
    progress: record.progress,
    attempts: record.attempts,
    ...(record.atom.kind === 'retry'
      ? {
          history: record.history.map((attempt) => ({
            result: (attempt.result ?? null) as JsonValue,
            failures: Object.fromEntries(
              Object.entries(attempt.failures).map(([name, f]) => [name, f.toJSON()]),
            ),
          })),
        }
      : {}),
    meta: record.meta,
    updatedAt: now,
  };
}

function applyDetail(record: AtomRecord, detail: AtomDetail, allowVersionChange: boolean): void {
  if (detail.kind !== record.atom.kind) {
    throw new TaskFlowError(
      'DEFINITION_MISMATCH',
      `Atom "${detail.name}" was recorded as a ${detail.kind} but the flow now defines a ${record.atom.kind}; give the new atom another name.`,
    );
  }
  if (detail.version !== record.atom.version && !allowVersionChange) {
    throw new TaskFlowError(
      'VERSION_MISMATCH',
      `Atom "${detail.name}" was recorded at version ${detail.version} but the flow defines version ${record.atom.version}; pass allowVersionChange to continue the run with the new version.`,
    );
  }
  record.state = detail.state;
  record.intention = detail.intention;
  record.hasResult = 'result' in detail || detail.state === 'SUCCESS';
  record.result = detail.result;
  record.failure = detail.failure ? Failure.fromJson(detail.failure) : undefined;
  record.revertResult = detail.revertResult;
  record.revertFailure = detail.revertFailure ? Failure.fromJson(detail.revertFailure) : undefined;
  record.progress = detail.progress;
  record.attempts = detail.attempts;
  record.history = (detail.history ?? []).map((attempt) => ({
    result: attempt.result,
    failures: Object.fromEntries(
      Object.entries(attempt.failures).map(([name, f]) => [name, Failure.fromJson(f)]),
    ),
  }));
  record.meta = { ...detail.meta };
}
