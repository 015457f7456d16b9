import type { AtomState, FlowState } from '../../core/states.ts';
import { type GuardOptions, guardRunStore, type RunStorage } from '../guarded-run-store.ts';
import type { AtomDetail, FlowDetail, LogBook } from '../model.ts';
import { decodeCursor, FINISHED_FLOW_STATES, isAfter, pageLimit, toPage } from '../paging.ts';
import type { FlowQuery, Lease, Page } from '../ports.ts';
import { decodeAtom, decodeFlow, decodeLogBook, encodeRecord } from '../record-codec.ts';
import type {
  AtomWrite,
  LeaseHolder,
  LeaseOutcome,
  RunStoreBackend,
  WriteOutcome,
} from '../run-store-backend.ts';

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
export class MemoryRunStoreBackend implements RunStoreBackend {
  readonly #books = new Map<string, StoredBook>();
  readonly #flows = new Map<string, StoredFlow>();

  async ensureFlow(book: LogBook, detail: FlowDetail): Promise<FlowDetail> {
    if (!this.#books.has(book.id)) {
      this.#books.set(book.id, {
        id: book.id,
        createdAt: book.createdAt,
        text: encodeRecord(book),
      });
    }
    const existing = this.#flows.get(detail.id);
    if (existing !== undefined) return decodeFlow(existing.text, `of run "${detail.id}"`);
    const text = encodeRecord(detail);
    this.#flows.set(detail.id, {
      id: detail.id,
      createdAt: detail.createdAt,
      logbookId: detail.logbookId,
      state: detail.state,
      text,
      holder: { owner: undefined, token: 0, expiresAt: 0 },
      atoms: new Map(),
    });
    return decodeFlow(text, `of run "${detail.id}"`);
  }

  async loadRun(flowId: string): Promise<{ flow: FlowDetail; atoms: AtomDetail[] } | undefined> {
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
    flow.logbookId = detail.logbookId;
    flow.state = detail.state;
    flow.text = encodeRecord(detail);
    return { kind: 'written' };
  }

  async writeAtoms(
    flowId: string,
    writes: readonly AtomWrite[],
    lease: Lease,
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
    return { kind: 'written' };
  }

  async acquireLease(request: {
    flowId: string;
    owner: string;
    ttlMs: number;
    now: number;
  }): Promise<LeaseOutcome> {
    const flow = this.#flows.get(request.flowId);
    if (flow === undefined) return { kind: 'no-run' };
    const { holder } = flow;
    if (holder.owner !== undefined && holder.expiresAt > request.now)
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
    flow.holder = { ...flow.holder, expiresAt: request.now + request.ttlMs };
    return { kind: 'granted', lease: leaseOf(flow) };
  }

  async releaseLease(lease: Lease): Promise<void> {
    const flow = this.#flows.get(lease.flowId);
    if (flow === undefined || fenceCheck(flow, lease) !== undefined) return;
    flow.holder = { owner: undefined, token: flow.holder.token, expiresAt: 0 };
  }

  async listLogbooks(query: {
    readonly limit?: number;
    readonly after?: string;
  }): Promise<Page<LogBook>> {
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.after);
    const rows = [...this.#books.values()].filter((book) => isAfter(book, after)).sort(byPosition);
    const page = toPage(rows.slice(0, limit + 1), limit);
    return {
      items: page.items.map((book) => decodeLogBook(book.text, `logbook "${book.id}"`)),
      next: page.next,
    };
  }

  async listFlows(query: FlowQuery): Promise<Page<FlowDetail>> {
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.after);
    const rows = [...this.#flows.values()]
      .filter(
        (flow) =>
          isAfter(flow, after) &&
          (query.logbookId === undefined || flow.logbookId === query.logbookId) &&
          (query.states === undefined || query.states.includes(flow.state)) &&
          (query.unfinished !== true || !FINISHED_FLOW_STATES.includes(flow.state)),
      )
      .sort(byPosition);
    const page = toPage(rows.slice(0, limit + 1), limit);
    return {
      items: page.items.map((flow) => decodeFlow(flow.text, `of run "${flow.id}"`)),
      next: page.next,
    };
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
export function createMemoryRunStore(options: GuardOptions = {}): RunStorage {
  return guardRunStore(new MemoryRunStoreBackend(), options);
}

type Refusal = Extract<WriteOutcome, { kind: 'no-run' | 'fenced' }>;

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

function byPosition(
  a: { createdAt: number; id: string },
  b: { createdAt: number; id: string },
): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
