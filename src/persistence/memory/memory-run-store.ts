import type { Page } from '../../core/page.ts';
import type { AtomState, FlowState } from '../../core/states.ts';
import { mapPage, pageInMemory } from '../../drivers/cursor-paging.ts';
import { type GuardOptions, guardRunStore } from '../guarded-run-store.ts';
import type { AtomDetail, FlowDetail, LogBook } from '../model.ts';
import {
  FENCED_LEASE_EXPIRY,
  type FlowQuery,
  type Lease,
  type RunLeaseInfo,
  type RunStore,
  type RunWriteOptions,
} from '../ports.ts';
import { decodeAtom, decodeFlow, decodeLogBook, encodeRecord } from '../record-codec.ts';
import { decodeCursor, FINISHED_FLOW_STATES, pageLimit } from '../run-paging.ts';
import { leaseInfo } from '../run-retention.ts';
import type {
  AtomWrite,
  DeleteOutcome,
  LeaseHolder,
  LeaseOutcome,
  OpenOutcome,
  OpenRequest,
  RunStoreDriver,
  WriteOutcome,
} from '../run-store-driver.ts';

interface StoredBook {
  readonly id: string;
  readonly createdAt: number;
  readonly text: string;
}

interface StoredFlow {
  readonly id: string;
  readonly createdAt: number;
  logbookId: string;
  state: FlowState;
  text: string;
  holder: LeaseHolder;
  /** Insertion-ordered, so a run loads its atoms in the order they were first saved. */
  readonly atoms: Map<string, { state: AtomState; text: string }>;
}

/**
 * The reference backend: everything in this process's memory, nothing durable. Records are
 * kept as JSON text, so callers can never mutate what was stored and values round-trip exactly
 * as they do through SQLite and PostgreSQL.
 */
export class MemoryRunStoreDriver implements RunStoreDriver {
  readonly #books = new Map<string, StoredBook>();
  readonly #flows = new Map<string, StoredFlow>();

  async ensureFlow(book: LogBook, detail: FlowDetail): Promise<FlowDetail> {
    return decodeFlow(this.#ensure(book, detail).text, `of run "${detail.id}"`);
  }

  async openRun(request: OpenRequest): Promise<OpenOutcome> {
    this.#ensure(request.book, request.detail);
    const outcome = this.#acquire({ ...request, flowId: request.detail.id });
    if (outcome.kind === 'held' || outcome.kind === 'fenced') return outcome;
    const run = this.#load(request.detail.id);
    if (outcome.kind === 'no-run' || run === undefined)
      throw new Error(`Run "${request.detail.id}" was created in this call but is not there.`);
    return { kind: 'granted', lease: outcome.lease, ...run };
  }

  #ensure(book: LogBook, detail: FlowDetail): StoredFlow {
    if (!this.#books.has(book.id)) {
      this.#books.set(book.id, {
        id: book.id,
        createdAt: book.createdAt,
        text: encodeRecord(book),
      });
    }
    const existing = this.#flows.get(detail.id);
    if (existing !== undefined) return existing;
    const flow: StoredFlow = {
      id: detail.id,
      createdAt: detail.createdAt,
      logbookId: detail.logbookId,
      state: detail.state,
      text: encodeRecord(detail),
      holder: { owner: undefined, token: 0, expiresAt: 0 },
      atoms: new Map(),
    };
    this.#flows.set(detail.id, flow);
    return flow;
  }

  async loadRun(flowId: string): Promise<{ flow: FlowDetail; atoms: AtomDetail[] } | undefined> {
    return this.#load(flowId);
  }

  #load(flowId: string): { flow: FlowDetail; atoms: AtomDetail[] } | undefined {
    const flow = this.#flows.get(flowId);
    if (flow === undefined) return undefined;
    const atoms = [...flow.atoms.entries()].map(([name, atom]) =>
      decodeAtom(atom.text, `"${name}" of run "${flowId}"`),
    );
    return { flow: decodeFlow(flow.text, `of run "${flowId}"`), atoms };
  }

  async writeFlow(detail: FlowDetail, lease: Lease): Promise<WriteOutcome> {
    const flow = this.#flows.get(detail.id);
    const refusal = fenceCheck(flow, lease);
    if (refusal !== undefined || flow === undefined) return refusal ?? { kind: 'no-run' };
    setFlow(flow, detail);
    return { kind: 'written' };
  }

  async writeAtoms(
    flowId: string,
    writes: readonly AtomWrite[],
    lease: Lease,
    options: RunWriteOptions = {},
  ): Promise<WriteOutcome> {
    const flow = this.#flows.get(flowId);
    const refusal = fenceCheck(flow, lease);
    if (refusal !== undefined || flow === undefined) return refusal ?? { kind: 'no-run' };
    // Check the whole batch against the states it moves through before writing any of it.
    const states = new Map<string, AtomDetail['state']>();
    for (const [index, { detail, rule }] of writes.entries()) {
      const current = states.get(detail.name) ?? flow.atoms.get(detail.name)?.state;
      const allowed = current === undefined ? rule.create : rule.from.includes(current);
      if (!allowed) return { kind: 'illegal', from: current, index };
      states.set(detail.name, detail.state);
    }
    for (const { detail } of writes)
      flow.atoms.set(detail.name, { state: detail.state, text: encodeRecord(detail) });
    if (options.flow !== undefined) setFlow(flow, options.flow);
    if (options.release) release(flow);
    return { kind: 'written' };
  }

  async acquireLease(request: {
    flowId: string;
    owner: string;
    ttlMs: number;
    now: number;
    fence?: number;
  }): Promise<LeaseOutcome> {
    return this.#acquire(request);
  }

  #acquire(request: {
    flowId: string;
    owner: string;
    ttlMs: number;
    now: number;
    fence?: number;
  }): LeaseOutcome {
    const flow = this.#flows.get(request.flowId);
    if (flow === undefined) return { kind: 'no-run' };
    const { holder } = flow;
    const { fence } = request;
    if (fence !== undefined) {
      const supersedes =
        fence > holder.token || (fence === holder.token && holder.owner === request.owner);
      if (!supersedes) return { kind: 'fenced', holder };
      flow.holder = { owner: request.owner, token: fence, expiresAt: FENCED_LEASE_EXPIRY };
      return { kind: 'granted', lease: leaseOf(flow) };
    }
    const carried = holder.expiresAt === FENCED_LEASE_EXPIRY;
    if (carried || (holder.owner !== undefined && holder.expiresAt > request.now))
      return { kind: 'held', holder };
    flow.holder = {
      owner: request.owner,
      token: holder.token + 1,
      expiresAt: request.now + request.ttlMs,
    };
    return { kind: 'granted', lease: leaseOf(flow) };
  }

  async renewLease(request: { lease: Lease; ttlMs: number; now: number }): Promise<LeaseOutcome> {
    const flow = this.#flows.get(request.lease.flowId);
    const refusal = fenceCheck(flow, request.lease);
    if (refusal !== undefined || flow === undefined) return refusal ?? { kind: 'no-run' };
    if (flow.holder.expiresAt === FENCED_LEASE_EXPIRY)
      return { kind: 'fenced', holder: flow.holder };
    flow.holder = { ...flow.holder, expiresAt: request.now + request.ttlMs };
    return { kind: 'granted', lease: leaseOf(flow) };
  }

  async releaseLease(lease: Lease): Promise<void> {
    const flow = this.#flows.get(lease.flowId);
    if (flow === undefined || fenceCheck(flow, lease) !== undefined) return;
    release(flow);
  }

  async listLogbooks(query: {
    readonly limit?: number;
    readonly after?: string;
  }): Promise<Page<LogBook>> {
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.after);
    const page = pageInMemory(this.#books.values(), after, limit);
    return mapPage(page, (book) => decodeLogBook(book.text, `logbook "${book.id}"`));
  }

  async listFlows(query: FlowQuery): Promise<Page<FlowDetail>> {
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.after);
    const matching = [...this.#flows.values()].filter(
      (flow) =>
        (query.logbookId === undefined || flow.logbookId === query.logbookId) &&
        (query.states === undefined || query.states.includes(flow.state)) &&
        (query.unfinished !== true || !FINISHED_FLOW_STATES.includes(flow.state)),
    );
    const page = pageInMemory(matching, after, limit);
    return mapPage(page, (flow) => decodeFlow(flow.text, `of run "${flow.id}"`));
  }

  async readLease(flowId: string): Promise<RunLeaseInfo | undefined> {
    return leaseInfo(this.#flows.get(flowId)?.holder);
  }

  async deleteRun(request: {
    flowId: string;
    now: number;
    states?: readonly FlowState[];
  }): Promise<DeleteOutcome> {
    const flow = this.#flows.get(request.flowId);
    if (flow === undefined) return { kind: 'no-run' };
    if (request.states !== undefined && !request.states.includes(flow.state))
      return { kind: 'kept' };
    const { holder } = flow;
    const leased = holder.owner !== undefined && holder.expiresAt > request.now;
    const carried =
      holder.expiresAt === FENCED_LEASE_EXPIRY && !FINISHED_FLOW_STATES.includes(flow.state);
    if (leased || carried)
      return request.states === undefined ? { kind: 'held', holder } : { kind: 'kept' };
    this.#flows.delete(request.flowId);
    return { kind: 'deleted' };
  }

  async close(): Promise<void> {
    // Nothing to release; the data goes with this object.
  }
}

/**
 * A run store in this process's memory, for tests and for runs that need no durability.
 *
 * @example
 * const store = createMemoryRunStore();
 * await store.ensureFlow(book, detail);
 */
export function createMemoryRunStore(options: GuardOptions = {}): RunStore {
  return guardRunStore(new MemoryRunStoreDriver(), options);
}

type Refusal = Extract<WriteOutcome, { kind: 'no-run' | 'fenced' }>;

function setFlow(flow: StoredFlow, detail: FlowDetail): void {
  flow.logbookId = detail.logbookId;
  flow.state = detail.state;
  flow.text = encodeRecord(detail);
}

/** Clears the owner; a run carried by a job keeps the marker. */
function release(flow: StoredFlow): void {
  const carried = flow.holder.expiresAt === FENCED_LEASE_EXPIRY;
  flow.holder = {
    owner: undefined,
    token: flow.holder.token,
    expiresAt: carried ? FENCED_LEASE_EXPIRY : 0,
  };
}

function fenceCheck(flow: StoredFlow | undefined, lease: Lease): Refusal | undefined {
  if (flow === undefined) return { kind: 'no-run' };
  if (flow.holder.token !== lease.token || flow.holder.owner !== lease.owner)
    return { kind: 'fenced', holder: flow.holder };
  return undefined;
}

function leaseOf(flow: StoredFlow): Lease {
  return {
    flowId: flow.id,
    owner: flow.holder.owner ?? '',
    token: flow.holder.token,
    expiresAt: flow.holder.expiresAt,
  };
}

/** @deprecated Use {@link MemoryRunStoreDriver}; this name is kept for one more release. */
export const MemoryRunStoreBackend = MemoryRunStoreDriver;
/** @deprecated Use {@link MemoryRunStoreDriver}; this name is kept for one more release. */
export type MemoryRunStoreBackend = MemoryRunStoreDriver;
