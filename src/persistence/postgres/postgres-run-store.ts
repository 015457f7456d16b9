import type pg from 'pg';
import type { Page } from '../../core/page.ts';
import type { FlowState } from '../../core/states.ts';
import {
  connectPostgres,
  type NamedStatement,
  type PostgresConnection,
  quoteIdentifier,
  runStatement,
  type SqlValue,
  schemaName,
} from '../../drivers/postgres/postgres-pool.ts';
import { type GuardOptions, guardRunStore } from '../guarded-run-store.ts';
import type { AtomDetail, FlowDetail, LogBook } from '../model.ts';
import type { FlowQuery, Lease, RunLeaseInfo, RunStore, RunWriteOptions } from '../ports.ts';
import { decodeAtom, decodeFlow, decodeLogBook, encodeRecord } from '../record-codec.ts';
import {
  decodeCursor,
  FINISHED_FLOW_STATES,
  pageLimit,
  type RecordRow,
  recordPage,
} from '../run-paging.ts';
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
import { StorageError } from '../storage-error.ts';
import { preparePostgresSchema } from './postgres-schema.ts';
import { type PostgresStatements, postgresStatements } from './postgres-statements.ts';
import { toPostgresStorageError } from './postgres-storage-errors.ts';

/** Options of {@link openPostgresRunStore}: a pool you own, or a URL to make one from. */
export type PostgresRunStoreOptions = GuardOptions & {
  /** The schema holding the taskflow tables; created when missing. Default `public`. */
  readonly schema?: string;
} & PostgresConnection;

type Params = readonly SqlValue[];

interface HolderRow {
  readonly lease_owner: string | null;
  readonly lease_token: string;
  readonly lease_expires_at: number;
}

interface OpenRow extends HolderRow {
  readonly granted: boolean;
  readonly flow_record: string | null;
  readonly atom_records: string[] | null;
}

/**
 * The backend for runs that outgrow one machine: several engines in several processes share
 * one PostgreSQL database. Each write is one statement and one round trip; fencing and lease
 * checks sit in the statement's WHERE clause, under PostgreSQL's row locks. Lease expiry is
 * computed and tested with the server's clock (`clock_timestamp()`), so engines on hosts whose
 * clocks disagree, or requests that waited for a connection, still agree on who holds a run;
 * the guard's `now` option does not apply to it.
 */
export class PostgresRunStoreDriver implements RunStoreDriver {
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #schema: string;
  readonly #sql: PostgresStatements;

  constructor(options: { pool: pg.Pool; ownsPool: boolean; schema: string }) {
    this.#pool = options.pool;
    this.#ownsPool = options.ownsPool;
    this.#schema = options.schema;
    this.#sql = postgresStatements(options.schema);
  }

  async ensureFlow(book: LogBook, detail: FlowDetail): Promise<FlowDetail> {
    const params = [
      detail.id,
      detail.logbookId,
      detail.state,
      detail.createdAt,
      encodeRecord(detail),
      book.id,
      book.createdAt,
      encodeRecord(book),
    ];
    let rows = await this.#query<{ record: string }>(this.#sql.ensureFlow, params);
    // A concurrent creator's row is invisible to this statement's snapshot; read it now.
    if (rows.length === 0)
      rows = await this.#query<{ record: string }>(this.#sql.selectFlow, [detail.id]);
    return decodeFlow(rows[0]?.record, `of run "${detail.id}"`);
  }

  /** One round trip: a function creates, leases and reads the run (migration 003). */
  async openRun(request: OpenRequest): Promise<OpenOutcome> {
    const { book, detail } = request;
    const [row] = await this.#query<OpenRow>(this.#sql.openRun, [
      detail.id,
      book.id,
      detail.state,
      detail.createdAt,
      encodeRecord(detail),
      book.createdAt,
      encodeRecord(book),
      request.owner,
      request.ttlMs,
      request.fence ?? null,
    ]);
    if (row === undefined)
      throw new StorageError('STORAGE_CORRUPT', 'taskflow_open_run returned no row.');
    if (!row.granted || row.flow_record === null) {
      const holder = holderOf(row);
      return request.fence === undefined ? { kind: 'held', holder } : { kind: 'fenced', holder };
    }
    return {
      kind: 'granted',
      lease: leaseOf(detail.id, row),
      flow: decodeFlow(row.flow_record, `of run "${detail.id}"`),
      atoms: (row.atom_records ?? []).map((text, index) =>
        decodeAtom(text, `#${index + 1} of run "${detail.id}"`),
      ),
    };
  }

  async loadRun(flowId: string): Promise<{ flow: FlowDetail; atoms: AtomDetail[] } | undefined> {
    const [row] = await this.#query<{ record: string; atoms: string[] }>(this.#sql.loadRun, [
      flowId,
    ]);
    if (row === undefined) return undefined;
    return {
      flow: decodeFlow(row.record, `of run "${flowId}"`),
      atoms: row.atoms.map((text, index) => decodeAtom(text, `#${index + 1} of run "${flowId}"`)),
    };
  }

  async writeFlow(detail: FlowDetail, lease: Lease): Promise<WriteOutcome> {
    const params = [
      detail.id,
      lease.token,
      lease.owner,
      detail.logbookId,
      detail.state,
      encodeRecord(detail),
    ];
    if ((await this.#execute(this.#sql.updateFlow, params)) === 1) return { kind: 'written' };
    return (await this.#refusal(detail.id, lease)) ?? { kind: 'no-run' };
  }

  async writeAtoms(
    flowId: string,
    writes: readonly AtomWrite[],
    lease: Lease,
    options: RunWriteOptions = {},
  ): Promise<WriteOutcome> {
    const paramsOf = ({ detail, rule }: AtomWrite): Params => [
      flowId,
      lease.token,
      lease.owner,
      detail.name,
      detail.state,
      encodeRecord(detail),
      rule.create,
      rule.from,
    ];
    const { flow, release = false } = options;
    // One write needs no transaction: the statement is atomic and costs one round trip.
    const [only] = writes;
    if (writes.length === 1 && only && flow === undefined && !release) {
      if ((await this.#execute(this.#sql.upsertAtom, paramsOf(only))) === 1)
        return { kind: 'written' };
      return this.#atomRefusal(flowId, lease, writes, 0);
    }
    // A batch is one call of a function that applies each write with the same fence and rule
    // and raises on the first refusal: one round trip and one commit, all or none.
    const atoms = [
      flowId,
      lease.token,
      lease.owner,
      writes.map((w) => w.detail.name),
      writes.map((w) => w.detail.state),
      writes.map((w) => encodeRecord(w.detail)),
      writes.map((w) => w.rule.create),
      writes.map((w) => w.rule.from.join(',')),
    ];
    const plain = flow === undefined && !release;
    try {
      await this.#pool.query(
        plain
          ? { ...this.#sql.saveAtoms, values: atoms }
          : {
              ...this.#sql.saveRun,
              values: [
                ...atoms,
                flow?.logbookId ?? null,
                flow?.state ?? null,
                flow === undefined ? null : encodeRecord(flow),
                release,
              ],
            },
      );
      return { kind: 'written' };
    } catch (error) {
      const { code, message = '' } = error as { code?: string; message?: string };
      const refused = /^taskflow atom write (\d+) refused$/.exec(message);
      if (code === 'TF001' && refused) {
        return this.#atomRefusal(flowId, lease, writes, Number(refused[1]));
      }
      if (code === 'TF002') return (await this.#refusal(flowId, lease)) ?? { kind: 'no-run' };
      throw toPostgresStorageError(error, this.#schema);
    }
  }

  /** Why write `index` of a batch was refused: the lease, or the state the atom was in. */
  async #atomRefusal(
    flowId: string,
    lease: Lease,
    writes: readonly AtomWrite[],
    index: number,
  ): Promise<WriteOutcome> {
    const refusal = await this.#refusal(flowId, lease);
    if (refusal !== undefined) return refusal;
    const name = writes[index]?.detail.name ?? '';
    const earlier = writes.slice(0, index).findLast((write) => write.detail.name === name);
    if (earlier) return { kind: 'illegal', from: earlier.detail.state, index };
    const [atom] = await this.#query<{ state: AtomDetail['state'] }>(this.#sql.selectAtomState, [
      flowId,
      name,
    ]);
    return { kind: 'illegal', from: atom?.state, index };
  }

  /** Times the lease with the server's clock; `request.now` is not used. */
  async acquireLease(request: {
    flowId: string;
    owner: string;
    ttlMs: number;
    now: number;
    fence?: number;
  }): Promise<LeaseOutcome> {
    const { fence } = request;
    const [row] =
      fence === undefined
        ? await this.#query<HolderRow>(this.#sql.acquireLease, [
            request.flowId,
            request.owner,
            request.ttlMs,
          ])
        : await this.#query<HolderRow>(this.#sql.acquireFencedLease, [
            request.flowId,
            request.owner,
            fence,
          ]);
    if (row !== undefined) return { kind: 'granted', lease: leaseOf(request.flowId, row) };
    // Read after the refused statement: the holder that made it refuse, or a later one.
    const holder = await this.#holder(request.flowId);
    if (holder === undefined) return { kind: 'no-run' };
    return { kind: fence === undefined ? 'held' : 'fenced', holder };
  }

  /** Times the renewal with the server's clock; `request.now` is not used. */
  async renewLease(request: { lease: Lease; ttlMs: number; now: number }): Promise<LeaseOutcome> {
    const { lease } = request;
    const params = [lease.flowId, lease.token, lease.owner, request.ttlMs];
    const [row] = await this.#query<HolderRow>(this.#sql.renewLease, params);
    if (row !== undefined) return { kind: 'granted', lease: leaseOf(lease.flowId, row) };
    const holder = await this.#holder(lease.flowId);
    return holder === undefined ? { kind: 'no-run' } : { kind: 'fenced', holder };
  }

  async releaseLease(lease: Lease): Promise<void> {
    await this.#execute(this.#sql.releaseLease, [lease.flowId, lease.token, lease.owner]);
  }

  async listLogbooks(query: {
    readonly limit?: number;
    readonly after?: string;
  }): Promise<Page<LogBook>> {
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.after);
    const rows = await this.#query<RecordRow>(this.#sql.listBooks, [
      after?.createdAt ?? null,
      after?.id ?? null,
      limit + 1,
    ]);
    return recordPage(rows, limit, (row) => decodeLogBook(row.record, `logbook "${row.id}"`));
  }

  async listFlows(query: FlowQuery): Promise<Page<FlowDetail>> {
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.after);
    const params: (string | number | null | readonly string[])[] = [
      after?.createdAt ?? null,
      after?.id ?? null,
      limit + 1,
    ];
    const where = ['($2::text IS NULL OR created_at > $1 OR (created_at = $1 AND id > $2))'];
    const add = (clause: (n: string) => string, value: string | readonly string[]): void => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (query.logbookId !== undefined) add((n) => `logbook_id = ${n}`, query.logbookId);
    if (query.states !== undefined) add((n) => `state = ANY(${n}::text[])`, query.states);
    if (query.unfinished === true) add((n) => `state <> ALL(${n}::text[])`, FINISHED_FLOW_STATES);
    const text = `SELECT id, created_at, record FROM ${this.#table('taskflow_flows')} WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT $3`;
    const rows = await this.#query<RecordRow>(this.#sql.named(text), params);
    return recordPage(rows, limit, (row) => decodeFlow(row.record, `of run "${row.id}"`));
  }

  async readLease(flowId: string): Promise<RunLeaseInfo | undefined> {
    return leaseInfo(await this.#holder(flowId));
  }

  async deleteRun(request: {
    flowId: string;
    now: number;
    states?: readonly FlowState[];
  }): Promise<DeleteOutcome> {
    const states = request.states === undefined ? null : [...request.states];
    const deleted = await this.#execute(this.#sql.deleteFlow, [request.flowId, states]);
    if (deleted === 1) return { kind: 'deleted' };
    const holder = await this.#holder(request.flowId);
    if (holder === undefined) return { kind: 'no-run' };
    return states === null ? { kind: 'held', holder } : { kind: 'kept' };
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.end();
  }

  async #refusal(flowId: string, lease: Lease): Promise<WriteOutcome | undefined> {
    const holder = await this.#holder(flowId);
    if (holder === undefined) return { kind: 'no-run' };
    if (holder.token !== lease.token || holder.owner !== lease.owner)
      return { kind: 'fenced', holder };
    return undefined;
  }

  async #holder(flowId: string): Promise<LeaseHolder | undefined> {
    const [row] = await this.#query<HolderRow>(this.#sql.selectHolder, [flowId]);
    return row === undefined ? undefined : holderOf(row);
  }

  #table(name: string): string {
    return `${quoteIdentifier(this.#schema)}.${name}`;
  }

  async #query<R extends object>(statement: NamedStatement, values: Params): Promise<R[]> {
    return (await runStatement<R>(this.#pool, statement, values, this.#toError())).rows;
  }

  async #execute(statement: NamedStatement, values: Params): Promise<number> {
    return (await runStatement(this.#pool, statement, values, this.#toError())).rowCount ?? 0;
  }

  #toError(): (error: unknown) => unknown {
    return (error) => toPostgresStorageError(error, this.#schema);
  }
}

/**
 * Opens a run store in PostgreSQL, creating or migrating its tables first (under an advisory
 * lock, so engines starting together migrate once). A schema at a newer version, or with
 * taskflow tables that are not ours, is refused with `SCHEMA_MISMATCH` and left unchanged.
 *
 * @example
 * const store = await openPostgresRunStore({ url: 'postgres://app@db:5432/app', schema: 'taskflow' });
 * const lease = await store.acquireLease(flowId, 'engine-1', 30_000);
 */
export async function openPostgresRunStore(options: PostgresRunStoreOptions): Promise<RunStore> {
  const schema = schemaName(
    options.schema,
    (message) => new StorageError('INVALID_ARGUMENT', message),
  );
  const { pool, owned } = await connectPostgres(
    options,
    (made) => preparePostgresSchema(made, schema),
    (error) => toPostgresStorageError(error, schema),
  );
  return guardRunStore(new PostgresRunStoreDriver({ pool, ownsPool: owned, schema }), options);
}

function holderOf(row: HolderRow): LeaseHolder {
  return {
    owner: row.lease_owner ?? undefined,
    token: Number(row.lease_token),
    expiresAt: row.lease_expires_at,
  };
}

function leaseOf(flowId: string, row: HolderRow): Lease {
  return {
    flowId,
    owner: row.lease_owner ?? '',
    token: Number(row.lease_token),
    expiresAt: row.lease_expires_at,
  };
}

/** @deprecated Use {@link PostgresRunStoreDriver}; this name is kept for one more release. */
export const PostgresRunStoreBackend = PostgresRunStoreDriver;
/** @deprecated Use {@link PostgresRunStoreDriver}; this name is kept for one more release. */
export type PostgresRunStoreBackend = PostgresRunStoreDriver;
