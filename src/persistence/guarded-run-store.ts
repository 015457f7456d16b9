import { findJsonProblem } from '../core/json-safety.ts';
import { MAX_ATOM_NAME_LENGTH, MAX_FLOW_NAME_LENGTH, nameProblem } from '../core/names.ts';
import type { Page } from '../core/page.ts';
import { ATOM_STATES, FLOW_STATES } from '../core/states.ts';
import type { AtomDetail, FlowDetail, LogBook } from './model.ts';
import {
  FENCED_LEASE_EXPIRY,
  type FlowQuery,
  type Lease,
  type OpenedRun,
  type OpenRunRequest,
  type RunLeaseInfo,
  type RunPruneQuery,
  type RunStore,
  type RunWriteOptions,
} from './ports.ts';
import {
  fenced,
  illegalTransition,
  invalidArgument,
  leaseHeld,
  runNotFound,
  staleFence,
} from './refusals.ts';
import { decodeCursor, pageLimit } from './run-paging.ts';
import { checkRunPruneQuery, pruneRuns, runLeased } from './run-retention.ts';
import type { LeaseOutcome, RunStoreDriver, WriteOutcome } from './run-store-driver.ts';
import { StorageError } from './storage-error.ts';
import { atomWriteRule } from './write-rules.ts';

/** Options of {@link guardRunStore}. */
export interface GuardOptions {
  /**
   * Epoch milliseconds used for lease expiry by backends with one local clock (memory,
   * SQLite); tests pass a fake clock. Default `Date.now`. A backend behind a server
   * (PostgreSQL) times leases with the server's clock instead and ignores this.
   */
  readonly now?: () => number;
}

/**
 * Wraps a backend with the invariants every backend shares: values must be JSON-safe, atom
 * writes must follow legal transitions, writes must carry the current lease, arguments must be
 * well formed. Refusals reported by the backend become {@link StorageError}s here, so every
 * backend throws the same codes and messages.
 *
 * @example
 * const store = guardRunStore(new MemoryRunStoreDriver(), { now: clock.now });
 * const lease = await store.acquireLease(flow.id, 'engine-1', 30_000);
 * await store.saveAtoms(flow.id, [detail], lease);
 */
export function guardRunStore(backend: RunStoreDriver, options: GuardOptions = {}): RunStore {
  return new GuardedRunStore(backend, options.now ?? Date.now);
}

class GuardedRunStore implements RunStore {
  readonly #backend: RunStoreDriver;
  readonly #now: () => number;
  #closed = false;

  constructor(backend: RunStoreDriver, now: () => number) {
    this.#backend = backend;
    this.#now = now;
  }

  async ensureFlow(book: LogBook, detail: FlowDetail): Promise<FlowDetail> {
    this.#open();
    checkNewRun(book, detail);
    return this.#backend.ensureFlow(book, detail);
  }

  async openRun(request: OpenRunRequest): Promise<OpenedRun> {
    this.#open();
    const { book, flow, owner, ttlMs, fence } = request;
    checkNewRun(book, flow);
    requireId(owner, 'lease owner');
    checkTtl(ttlMs);
    if (fence !== undefined) checkFence(fence, flow.id);
    const outcome = await this.#backend.openRun({
      book,
      detail: flow,
      owner,
      ttlMs,
      now: this.#now(),
      ...(fence === undefined ? {} : { fence }),
    });
    switch (outcome.kind) {
      case 'granted':
        return { lease: outcome.lease, flow: outcome.flow, atoms: outcome.atoms };
      case 'fenced':
        if (fence !== undefined) throw staleFence(flow.id, owner, fence, outcome.holder);
        throw leaseHeld(flow.id, owner, outcome.holder);
      case 'held':
        throw leaseHeld(flow.id, owner, outcome.holder);
    }
  }

  async loadRun(flowId: string): Promise<{ flow: FlowDetail; atoms: AtomDetail[] } | undefined> {
    this.#open();
    return this.#backend.loadRun(flowId);
  }

  async saveFlow(detail: FlowDetail, lease: Lease): Promise<void> {
    this.#open();
    checkLeaseFor(lease, detail.id);
    checkFlowDetail(detail);
    const outcome = await this.#backend.writeFlow(detail, lease);
    this.#explain(outcome, lease, `save flow detail "${detail.id}"`, undefined);
  }

  async saveAtoms(
    flowId: string,
    details: readonly AtomDetail[],
    lease: Lease,
    options: RunWriteOptions = {},
  ): Promise<void> {
    this.#open();
    checkLeaseFor(lease, flowId);
    const { flow, release } = options;
    if (flow !== undefined) {
      checkLeaseFor(lease, flow.id);
      checkFlowDetail(flow);
    }
    if (details.length === 0 && flow === undefined) {
      if (release) await this.#backend.releaseLease(lease);
      return;
    }
    const writes = details.map((detail) => {
      requireName(detail.name, 'atom name', MAX_ATOM_NAME_LENGTH, flowId);
      if (
        !ATOM_STATES.includes(detail.state) ||
        (detail.kind !== 'task' && detail.kind !== 'retry')
      ) {
        throw invalidArgument(
          `Atom "${detail.name}" of run "${flowId}" has kind ${JSON.stringify(detail.kind)} and state ${JSON.stringify(detail.state)}; the kind must be "task" or "retry" and the state one of ${ATOM_STATES.join(', ')}.`,
          flowId,
        );
      }
      checkRecord(detail, `atom "${detail.name}" of run "${flowId}"`, flowId);
      return { detail, rule: atomWriteRule(detail.kind, detail.state) };
    });
    const outcome = await this.#backend.writeAtoms(flowId, writes, lease, options);
    const atom = outcome.kind === 'illegal' ? details[outcome.index] : undefined;
    this.#explain(outcome, lease, `save atoms of run "${flowId}"`, atom);
  }

  async acquireLease(
    flowId: string,
    owner: string,
    ttlMs: number,
    options: { readonly fence?: number } = {},
  ): Promise<Lease> {
    this.#open();
    requireId(owner, 'lease owner');
    checkTtl(ttlMs);
    const { fence } = options;
    if (fence === undefined) {
      const outcome = await this.#backend.acquireLease({ flowId, owner, ttlMs, now: this.#now() });
      return this.#leaseFrom(outcome, flowId, owner, `lease run "${flowId}"`);
    }
    checkFence(fence, flowId);
    const outcome = await this.#backend.acquireLease({
      flowId,
      owner,
      ttlMs,
      now: this.#now(),
      fence,
    });
    if (outcome.kind === 'fenced') throw staleFence(flowId, owner, fence, outcome.holder);
    return this.#leaseFrom(outcome, flowId, owner, `lease run "${flowId}" with fence ${fence}`);
  }

  /**
   * A fenced lease (expiry {@link FENCED_LEASE_EXPIRY}) is returned unchanged without asking
   * the backend: it lasts as long as the job's claim, which the jobboard renews. Whether it is
   * still current is checked by the next write, which is refused with `FENCED` if not.
   */
  async renewLease(lease: Lease, ttlMs: number): Promise<Lease> {
    this.#open();
    checkLeaseFor(lease, lease.flowId);
    checkTtl(ttlMs);
    if (lease.expiresAt === FENCED_LEASE_EXPIRY) return lease;
    const outcome = await this.#backend.renewLease({ lease, ttlMs, now: this.#now() });
    if (outcome.kind === 'fenced')
      throw fenced(lease, outcome.holder, `renew the lease on run "${lease.flowId}"`);
    return this.#leaseFrom(
      outcome,
      lease.flowId,
      lease.owner,
      `renew the lease on run "${lease.flowId}"`,
    );
  }

  async releaseLease(lease: Lease): Promise<void> {
    this.#open();
    checkLeaseFor(lease, lease.flowId);
    await this.#backend.releaseLease(lease);
  }

  async listLogbooks(query: {
    readonly limit?: number;
    readonly after?: string;
  }): Promise<Page<LogBook>> {
    this.#open();
    pageLimit(query.limit);
    decodeCursor(query.after);
    return this.#backend.listLogbooks(query);
  }

  async listFlows(query: FlowQuery): Promise<Page<FlowDetail>> {
    this.#open();
    pageLimit(query.limit);
    decodeCursor(query.after);
    for (const state of query.states ?? []) {
      if (!FLOW_STATES.includes(state)) {
        throw invalidArgument(
          `Flow state filter ${JSON.stringify(state)} is unknown; use any of ${FLOW_STATES.join(', ')}.`,
        );
      }
    }
    return this.#backend.listFlows(query);
  }

  async readLease(flowId: string): Promise<RunLeaseInfo | undefined> {
    this.#open();
    requireId(flowId, 'flow detail id');
    return this.#backend.readLease(flowId);
  }

  async deleteRun(flowId: string): Promise<void> {
    this.#open();
    requireId(flowId, 'flow detail id');
    const now = this.#now();
    const outcome = await this.#backend.deleteRun({ flowId, now });
    switch (outcome.kind) {
      case 'deleted':
        return;
      case 'no-run':
        throw runNotFound(flowId, `delete run "${flowId}"`);
      case 'held':
        throw runLeased(flowId, outcome.holder, now);
      case 'kept':
        throw new Error(`Backend reported "kept" for a delete without states: run "${flowId}"`);
    }
  }

  async pruneRuns(query: RunPruneQuery): Promise<{ deleted: string[]; more: boolean }> {
    this.#open();
    return pruneRuns(this.#backend, checkRunPruneQuery(query, this.#now()), this.#now);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#backend.close();
  }

  #open(): void {
    if (this.#closed) {
      throw new StorageError(
        'STORE_CLOSED',
        'This run store was closed; open a new one with openRunStore(url) to keep using it.',
      );
    }
  }

  #explain(
    outcome: WriteOutcome,
    lease: Lease,
    action: string,
    atom: AtomDetail | undefined,
  ): void {
    switch (outcome.kind) {
      case 'written':
        return;
      case 'no-run':
        throw runNotFound(lease.flowId, action);
      case 'fenced':
        throw fenced(lease, outcome.holder, action);
      case 'illegal':
        if (atom === undefined)
          throw new Error(`Backend reported an illegal transition for: ${action}`);
        throw illegalTransition(lease.flowId, atom, outcome.from);
    }
  }

  #leaseFrom(outcome: LeaseOutcome, flowId: string, owner: string, action: string): Lease {
    switch (outcome.kind) {
      case 'granted':
        return outcome.lease;
      case 'no-run':
        throw runNotFound(flowId, action);
      case 'held':
      case 'fenced':
        throw leaseHeld(flowId, owner, outcome.holder);
    }
  }
}

function checkRecord(record: object, subject: string, flowId: string): void {
  // Each top-level field is its own root, so paths read like `result.items[3].when`.
  for (const [key, value] of Object.entries(record)) {
    const problem = findJsonProblem(value, key);
    if (problem !== undefined) {
      throw new StorageError(
        'NOT_SERIALIZABLE',
        `Cannot store ${subject}: ${problem.path} ${problem.reason}. Stored values are JSON and must come back exactly as they went in.`,
        { flowId },
      );
    }
  }
}

/** A logbook and a new flow detail, as `ensureFlow` and `openRun` take them. */
function checkNewRun(book: LogBook, detail: FlowDetail): void {
  requireId(book.id, 'logbook id');
  requireId(detail.id, 'flow detail id');
  if (detail.logbookId !== book.id) {
    throw invalidArgument(
      `Flow detail "${detail.id}" names logbook "${detail.logbookId}" but was given logbook "${book.id}"; pass the logbook the detail belongs to.`,
      detail.id,
    );
  }
  requireName(detail.name, 'flow name', MAX_FLOW_NAME_LENGTH, detail.id);
  checkFlowState(detail);
  checkRecord(book, `logbook "${book.id}"`, detail.id);
  checkRecord(detail, `flow detail "${detail.id}"`, detail.id);
}

function checkFlowDetail(detail: FlowDetail): void {
  checkFlowState(detail);
  checkRecord(detail, `flow detail "${detail.id}"`, detail.id);
}

function checkFlowState(detail: FlowDetail): void {
  if (!FLOW_STATES.includes(detail.state)) {
    throw invalidArgument(
      `Flow detail "${detail.id}" has state ${JSON.stringify(detail.state)}; use one of ${FLOW_STATES.join(', ')}.`,
      detail.id,
    );
  }
}

function checkLeaseFor(lease: Lease, flowId: string): void {
  if (lease.flowId !== flowId) {
    throw invalidArgument(
      `A lease on run "${lease.flowId}" was used to write run "${flowId}"; acquire a lease on "${flowId}" and pass that one.`,
      flowId,
    );
  }
  if (!Number.isSafeInteger(lease.token) || typeof lease.owner !== 'string') {
    throw invalidArgument(
      `The lease passed for run "${flowId}" is malformed; pass the Lease returned by acquireLease or renewLease.`,
      flowId,
    );
  }
}

function checkFence(fence: number, flowId: string): void {
  if (!Number.isSafeInteger(fence) || fence <= 0) {
    throw invalidArgument(
      `Lease fence ${String(fence)} for run "${flowId}" is invalid; pass the fencing token of the job claim that carries the run (a positive whole number), or no fence for a plain lease.`,
      flowId,
    );
  }
}

function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw invalidArgument(
      `Lease ttlMs ${String(ttlMs)} is invalid; pass a positive whole number of milliseconds, e.g. 30000.`,
    );
  }
}

function requireId(value: string, what: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidArgument(`The ${what} must be a non-empty string, got ${JSON.stringify(value)}.`);
  }
}

/** Flow and atom names follow the one rule set of `core/names.ts`, the same on every backend. */
function requireName(value: string, what: string, maxLength: number, flowId: string): void {
  const problem = nameProblem(value, maxLength);
  if (problem === undefined) return;
  const shown = typeof value === 'string' && value.length > 80 ? `${value.slice(0, 80)}...` : value;
  throw invalidArgument(
    `The ${what} ${JSON.stringify(shown)} of run "${flowId}" ${problem}.`,
    flowId,
  );
}
