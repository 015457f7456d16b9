import type Database from 'better-sqlite3';
import type { Page } from '../../core/page.ts';
import type { FlowState } from '../../core/states.ts';
import { openSqliteFile } from '../../drivers/sqlite/sqlite-file.ts';
import { type GuardOptions, guardRunStore } from '../guarded-run-store.ts';
import type { AtomDetail, FlowDetail, LogBook } from '../model.ts';
import type { FlowQuery, Lease, RunLeaseInfo, RunStore, RunWriteOptions } from '../ports.ts';
import { decodeAtom, decodeFlow, decodeLogBook, encodeRecord } from '../record-codec.ts';
import { decodeCursor, FINISHED_FLOW_STATES, pageLimit, recordPage } from '../run-paging.ts';
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
import { prepareSqliteSchema } from './sqlite-schema.ts';
import { type SqliteStatements, sqliteStatements } from './sqlite-statements.ts';
import { toSqliteStorageError } from './sqlite-storage-errors.ts';

/** Options of {@link createSqliteRunStore}. */
export interface SqliteRunStoreOptions extends GuardOptions {
  /** The database file; created (with its schema) when missing. */
  readonly path: string;
  /**
   * `'process-kill'` (default): WAL with `synchronous=NORMAL`; a committed write survives the
   * process being killed at any instant, but the last commits may be lost if the machine loses
   * power. `'power-loss'`: `synchronous=FULL`; every commit is fsynced, which is slower.
   */
  readonly durability?: 'process-kill' | 'power-loss';
  /** How long a write waits for another process's write lock before failing. Default 5000. */
  readonly busyTimeoutMs?: number;
}

interface FlowRow {
  readonly id: string;
  readonly created_at: number;
  readonly record: string;
}

interface HolderRow {
  readonly lease_owner: string | null;
  readonly lease_token: number;
  readonly lease_expires_at: number;
}

/**
 * The embedded backend: one SQLite file (better-sqlite3, WAL), shared safely by several
 * processes on one host. Each write is one statement; fencing and lease checks sit in the
 * statement's WHERE clause, and SQLite's write lock makes each statement atomic.
 */
export class SqliteRunStoreDriver implements RunStoreDriver {
  readonly #db: Database.Database;
  readonly #sql: SqliteStatements;
  readonly #writeBatch: Database.Transaction<
    (flowId: string, writes: readonly AtomWrite[], lease: Lease, options: RunWriteOptions) => void
  >;

  constructor(options: SqliteRunStoreOptions) {
    this.#db = openDatabase(options);
    this.#sql = sqliteStatements(this.#db);
    this.#writeBatch = this.#db.transaction(
      (flowId: string, writes: readonly AtomWrite[], lease: Lease, options: RunWriteOptions) =>
        this.#applyBatch(flowId, writes, lease, options),
    );
  }

  async ensureFlow(book: LogBook, detail: FlowDetail): Promise<FlowDetail> {
    return this.#run(() =>
      this.#db
        .transaction(() => {
          this.#ensure(book, detail);
          const row = this.#sql.selectFlow.get({ id: detail.id }) as FlowRow;
          return decodeFlow(row.record, `of run "${detail.id}"`);
        })
        .immediate(),
    );
  }

  async openRun(request: OpenRequest): Promise<OpenOutcome> {
    const flowId = request.detail.id;
    return this.#run(() =>
      this.#db
        .transaction((): OpenOutcome => {
          this.#ensure(request.book, request.detail);
          const outcome = this.#acquire({ ...request, flowId });
          if (outcome.kind === 'held' || outcome.kind === 'fenced') return outcome;
          const run = this.#load(flowId);
          if (outcome.kind === 'no-run' || run === undefined) {
            throw new Error(`Run "${flowId}" was created in this transaction but is not there.`);
          }
          return { kind: 'granted', lease: outcome.lease, ...run };
        })
        .immediate(),
    );
  }

  #ensure(book: LogBook, detail: FlowDetail): void {
    this.#sql.insertBook.run({
      id: book.id,
      createdAt: book.createdAt,
      record: encodeRecord(book),
    });
    this.#sql.insertFlow.run(flowParams(detail));
  }

  async loadRun(flowId: string): Promise<{ flow: FlowDetail; atoms: AtomDetail[] } | undefined> {
    // One read transaction, so the flow and its atoms come from the same snapshot.
    return this.#run(() => this.#db.transaction(() => this.#load(flowId))());
  }

  #load(flowId: string): { flow: FlowDetail; atoms: AtomDetail[] } | undefined {
    const row = this.#sql.selectFlow.get({ id: flowId }) as FlowRow | undefined;
    if (row === undefined) return undefined;
    const atoms = this.#sql.selectAtoms.all({ flowId }) as { name: string; record: string }[];
    return {
      flow: decodeFlow(row.record, `of run "${flowId}"`),
      atoms: atoms.map((atom) => decodeAtom(atom.record, `"${atom.name}" of run "${flowId}"`)),
    };
  }

  async writeFlow(detail: FlowDetail, lease: Lease): Promise<WriteOutcome> {
    return this.#run(() =>
      this.#updateFlow(detail, lease)
        ? { kind: 'written' }
        : (this.#refusal(detail.id, lease) ?? { kind: 'no-run' }),
    );
  }

  #updateFlow(detail: FlowDetail, lease: Lease): boolean {
    const params = { ...flowParams(detail), token: lease.token, owner: lease.owner };
    return this.#sql.updateFlow.run(params).changes === 1;
  }

  async writeAtoms(
    flowId: string,
    writes: readonly AtomWrite[],
    lease: Lease,
    options: RunWriteOptions = {},
  ): Promise<WriteOutcome> {
    return this.#run(() => {
      try {
        this.#writeBatch.immediate(flowId, writes, lease, options);
        return { kind: 'written' };
      } catch (error) {
        if (!(error instanceof BatchRefused)) throw error;
        return error.outcome;
      }
    });
  }

  /**
   * Applies a batch of atom writes, then the flow detail and the release of `options`; throws
   * {@link BatchRefused} to roll the whole batch back.
   */
  #applyBatch(
    flowId: string,
    writes: readonly AtomWrite[],
    lease: Lease,
    options: RunWriteOptions,
  ): void {
    // The batch runs in an IMMEDIATE transaction: the fence checked here holds until commit.
    const refusal = this.#refusal(flowId, lease);
    if (refusal !== undefined) throw new BatchRefused(refusal);
    for (const [index, { detail, rule }] of writes.entries()) {
      const statement = rule.create ? this.#sql.upsertAtom : this.#sql.updateAtom;
      const { changes } = statement.run({
        flowId,
        name: detail.name,
        state: detail.state,
        record: encodeRecord(detail),
        from: `,${rule.from.join(',')},`,
      });
      if (changes === 1) continue;
      const atom = this.#sql.selectAtomState.get({ flowId, name: detail.name }) as
        | { state: AtomDetail['state'] }
        | undefined;
      throw new BatchRefused({ kind: 'illegal', from: atom?.state, index });
    }
    // The fence was checked above and holds until commit, so these cannot be refused.
    if (options.flow !== undefined) this.#updateFlow(options.flow, lease);
    if (options.release) this.#release(lease);
  }

  async acquireLease(request: {
    flowId: string;
    owner: string;
    ttlMs: number;
    now: number;
    fence?: number;
  }): Promise<LeaseOutcome> {
    return this.#run(() => this.#acquire(request));
  }

  #acquire(request: {
    flowId: string;
    owner: string;
    ttlMs: number;
    now: number;
    fence?: number;
  }): LeaseOutcome {
    const { fence } = request;
    const row = (
      fence === undefined
        ? this.#sql.acquireLease.get({
            id: request.flowId,
            owner: request.owner,
            now: request.now,
            expiresAt: request.now + request.ttlMs,
          })
        : this.#sql.acquireFencedLease.get({ id: request.flowId, owner: request.owner, fence })
    ) as HolderRow | undefined;
    if (row !== undefined) return { kind: 'granted', lease: leaseOf(request.flowId, row) };
    // Read after the refused statement: the holder that made it refuse, or a later one.
    const holder = this.#holder(request.flowId);
    if (holder === undefined) return { kind: 'no-run' };
    return { kind: fence === undefined ? 'held' : 'fenced', holder };
  }

  async renewLease(request: { lease: Lease; ttlMs: number; now: number }): Promise<LeaseOutcome> {
    const { lease } = request;
    return this.#run(() => {
      const row = this.#sql.renewLease.get({
        id: lease.flowId,
        owner: lease.owner,
        token: lease.token,
        expiresAt: request.now + request.ttlMs,
      }) as HolderRow | undefined;
      if (row !== undefined) return { kind: 'granted', lease: leaseOf(lease.flowId, row) };
      const holder = this.#holder(lease.flowId);
      return holder === undefined ? { kind: 'no-run' } : { kind: 'fenced', holder };
    });
  }

  async releaseLease(lease: Lease): Promise<void> {
    this.#run(() => this.#release(lease));
  }

  #release(lease: Lease): void {
    this.#sql.releaseLease.run({ id: lease.flowId, owner: lease.owner, token: lease.token });
  }

  async listLogbooks(query: {
    readonly limit?: number;
    readonly after?: string;
  }): Promise<Page<LogBook>> {
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.after);
    return this.#run(() => {
      const rows = this.#sql.listBooks.all({
        limit: limit + 1,
        ...cursorParams(after),
      }) as FlowRow[];
      return recordPage(rows, limit, (row) => decodeLogBook(row.record, `logbook "${row.id}"`));
    });
  }

  async listFlows(query: FlowQuery): Promise<Page<FlowDetail>> {
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.after);
    const where = [
      '(:afterId IS NULL OR created_at > :afterAt OR (created_at = :afterAt AND id > :afterId))',
    ];
    const params: Record<string, string | number | null> = {
      limit: limit + 1,
      ...cursorParams(after),
    };
    if (query.logbookId !== undefined) {
      where.push('logbook_id = :logbookId');
      params.logbookId = query.logbookId;
    }
    if (query.states !== undefined) where.push(inList('state', query.states, 's', params));
    if (query.unfinished === true)
      where.push(`NOT ${inList('state', FINISHED_FLOW_STATES, 'f', params)}`);
    const sql = `SELECT id, created_at, record FROM taskflow_flows WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT :limit`;
    return this.#run(() => {
      const rows = this.#sql.cached(sql).all(params) as FlowRow[];
      return recordPage(rows, limit, (row) => decodeFlow(row.record, `of run "${row.id}"`));
    });
  }

  async readLease(flowId: string): Promise<RunLeaseInfo | undefined> {
    return this.#run(() => leaseInfo(this.#holder(flowId)));
  }

  async deleteRun(request: {
    flowId: string;
    now: number;
    states?: readonly FlowState[];
  }): Promise<DeleteOutcome> {
    const states = request.states === undefined ? null : `,${request.states.join(',')},`;
    return this.#run(() =>
      this.#db
        .transaction((): DeleteOutcome => {
          const { changes } = this.#sql.deleteFlow.run({
            id: request.flowId,
            now: request.now,
            states,
          });
          if (changes === 1) {
            this.#sql.deleteAtoms.run({ flowId: request.flowId });
            return { kind: 'deleted' };
          }
          const holder = this.#holder(request.flowId);
          if (holder === undefined) return { kind: 'no-run' };
          return states === null ? { kind: 'held', holder } : { kind: 'kept' };
        })
        .immediate(),
    );
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  /** The connection's durability settings as SQLite reports them, e.g. for a health check. */
  settings(): { journalMode: string; synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA' } {
    const levels = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;
    const synchronous = levels[Number(this.#db.pragma('synchronous', { simple: true }))] ?? 'OFF';
    return { journalMode: String(this.#db.pragma('journal_mode', { simple: true })), synchronous };
  }

  /** Why a write changed nothing: no such run, or another lease is current; else undefined. */
  #refusal(flowId: string, lease: Lease): WriteOutcome | undefined {
    const holder = this.#holder(flowId);
    if (holder === undefined) return { kind: 'no-run' };
    if (holder.token !== lease.token || holder.owner !== lease.owner)
      return { kind: 'fenced', holder };
    return undefined;
  }

  #holder(flowId: string): LeaseHolder | undefined {
    const row = this.#sql.selectHolder.get({ id: flowId }) as HolderRow | undefined;
    return row === undefined
      ? undefined
      : {
          owner: row.lease_owner ?? undefined,
          token: row.lease_token,
          expiresAt: row.lease_expires_at,
        };
  }

  #run<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw toSqliteStorageError(error);
    }
  }
}

/** Thrown inside a batch transaction to undo it; never escapes the backend. */
class BatchRefused extends Error {
  readonly outcome: WriteOutcome;

  constructor(outcome: WriteOutcome) {
    super('batch refused');
    this.outcome = outcome;
  }
}

/**
 * A run store in one SQLite file: the embedded default, durable against a killed process.
 *
 * @example
 * const store = createSqliteRunStore({ path: '/var/lib/app/runs.db' });
 * const lease = await store.acquireLease(flowId, 'engine-1', 30_000);
 */
export function createSqliteRunStore(options: SqliteRunStoreOptions): RunStore {
  return guardRunStore(new SqliteRunStoreDriver(options), options);
}

function openDatabase(options: SqliteRunStoreOptions): Database.Database {
  return openSqliteFile({
    path: options.path,
    busyTimeoutMs: options.busyTimeoutMs,
    prepare: (db) => prepareSqliteSchema(db, options.path),
    synchronous: options.durability === 'power-loss' ? 'FULL' : 'NORMAL',
    // Checkpoints copy the WAL back into the file and sync it; doing that every 10,000 pages
    // (about 40 MB) instead of every 1,000 halves the cost of a step of a long run.
    walAutocheckpoint: 10000,
    toError: (error) => toSqliteStorageError(error, options.path),
  });
}

function flowParams(detail: FlowDetail): Record<string, string | number> {
  return {
    id: detail.id,
    logbookId: detail.logbookId,
    state: detail.state,
    createdAt: detail.createdAt,
    record: encodeRecord(detail),
  };
}

function cursorParams(
  after: { createdAt: number; id: string } | undefined,
): Record<string, string | number | null> {
  return { afterAt: after?.createdAt ?? null, afterId: after?.id ?? null };
}

function inList(
  column: string,
  values: readonly string[],
  prefix: string,
  params: Record<string, string | number | null>,
): string {
  if (values.length === 0) return '0';
  const names = values.map((value, index) => {
    params[`${prefix}${index}`] = value;
    return `:${prefix}${index}`;
  });
  return `${column} IN (${names.join(', ')})`;
}

function leaseOf(flowId: string, row: HolderRow): Lease {
  return {
    flowId,
    owner: row.lease_owner ?? '',
    token: row.lease_token,
    expiresAt: row.lease_expires_at,
  };
}

/** @deprecated Use {@link SqliteRunStoreDriver}; this name is kept for one more release. */
export const SqliteRunStoreBackend = SqliteRunStoreDriver;
/** @deprecated Use {@link SqliteRunStoreDriver}; this name is kept for one more release. */
export type SqliteRunStoreBackend = SqliteRunStoreDriver;
