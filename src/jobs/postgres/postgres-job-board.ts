import type pg from 'pg';
import type { Page } from '../../core/page.ts';
import { toPage } from '../../drivers/cursor-paging.ts';
import {
  connectPostgres,
  type NamedStatement,
  type PostgresConnection,
  quoteIdentifier,
  runStatement,
  schemaName,
} from '../../drivers/postgres/postgres-pool.ts';
import { guardJobBoard, type JobBoardOptions } from '../guarded-job-board.ts';
import type {
  ClaimWriteOutcome,
  ConductorHeartbeat,
  JobBoardBackend,
  PostOutcome,
  RedriveOutcome,
  RequestOutcome,
  RequestWrite,
  TrashOutcome,
} from '../job-board-backend.ts';
import { JobBoardError } from '../job-board-error.ts';
import { decodeJobCursor } from '../job-paging.ts';
import {
  type ConductorRow,
  conductorFromRow,
  type JobRow,
  jobFromRow,
  jobParams,
} from '../job-row.ts';
import type { ConductorInfo, Job, JobClaim, JobEvent, JobOutcome } from '../model.ts';
import type { JobBoard, JobQuery } from '../ports.ts';
import { toPostgresJobBoardError } from './postgres-job-errors.ts';
import { PostgresJobListener } from './postgres-job-listener.ts';
import { preparePostgresJobSchema } from './postgres-job-schema.ts';
import { type PostgresJobStatements, postgresJobStatements } from './postgres-job-statements.ts';

/**
 * Options of {@link openPostgresJobBoard}: a pool you own, or a URL to make one from.
 * Subscribing holds one of the pool's connections for LISTEN until the board closes.
 */
export type PostgresJobBoardOptions = JobBoardOptions & {
  /** The schema holding the jobboard tables; created when missing. Default `public`. */
  readonly schema?: string;
} & PostgresConnection;

type Param = string | number | null;

/**
 * The jobboard for several machines: jobs in a PostgreSQL table. A claim is one statement
 * that takes the best claimable row with `FOR UPDATE SKIP LOCKED`, so concurrent claimers
 * never wait on each other and never get the same job. Every change that matters to others is
 * announced with NOTIFY in the same statement (sent at commit), so idle claimers LISTENing on
 * the board's channel wake at once instead of polling. Lease times are the server's clock,
 * read in each statement (see `postgres-job-statements.ts`).
 */
export class PostgresJobBoardBackend implements JobBoardBackend {
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #schema: string;
  readonly #sql: PostgresJobStatements;
  readonly #listener: PostgresJobListener;

  constructor(options: { pool: pg.Pool; ownsPool: boolean; schema: string }) {
    this.#pool = options.pool;
    this.#ownsPool = options.ownsPool;
    this.#schema = options.schema;
    this.#sql = postgresJobStatements(options.schema);
    this.#listener = new PostgresJobListener({
      pool: options.pool,
      channel: this.#sql.channel,
      schema: options.schema,
    });
  }

  async post(job: Job): Promise<PostOutcome> {
    const p = jobParams(job);
    const params = [
      p.id,
      p.name,
      p.flowName,
      p.flowVersion,
      p.store,
      p.priority,
      p.idempotencyKey,
      p.createdAt,
      p.updatedAt,
      p.state,
      this.#sql.channel,
    ] as Param[];
    const [row] = await this.#query<JobRow>(this.#sql.insertJob, params);
    if (row !== undefined) return { kind: 'posted', job: jobFromRow(row) };
    // A concurrent poster's row is invisible to the insert's snapshot; this read sees it.
    const [existing] = await this.#query<JobRow>(this.#sql.selectByKey, [job.idempotencyKey]);
    if (existing === undefined) {
      throw new JobBoardError(
        'BOARD_UNAVAILABLE',
        `Posting job "${job.name}" with idempotency key "${job.idempotencyKey}" collided with a job that was trashed at the same moment; post it again.`,
      );
    }
    return { kind: 'existing', job: jobFromRow(existing) };
  }

  async get(jobId: string): Promise<Job | undefined> {
    const [row] = await this.#query<JobRow>(this.#sql.selectJob, [jobId]);
    return row === undefined ? undefined : jobFromRow(row);
  }

  async claim(request: { owner: string; ttlMs: number; now: number }): Promise<Job | undefined> {
    const params = [request.owner, request.ttlMs, this.#sql.channel];
    const [row] = await this.#query<JobRow>(this.#sql.claim, params);
    return row === undefined ? undefined : jobFromRow(row);
  }

  /** Timed with the server's clock; `request.now` is not used. */
  async untilLeaseExpiry(_request: { now: number }): Promise<number | undefined> {
    const [row] = await this.#query<{ ms: string | null }>(this.#sql.untilLeaseExpiry, []);
    return row?.ms == null ? undefined : Number(row.ms);
  }

  async extend(request: {
    claim: JobClaim;
    ttlMs: number;
    now: number;
  }): Promise<ClaimWriteOutcome> {
    return this.#claimWrite(request.claim, this.#sql.extend, [request.ttlMs]);
  }

  async consume(request: {
    claim: JobClaim;
    outcome: JobOutcome;
    now: number;
  }): Promise<ClaimWriteOutcome> {
    const outcome = JSON.stringify(request.outcome);
    return this.#claimWrite(request.claim, this.#sql.consume, [outcome, this.#sql.channel]);
  }

  async abandon(request: {
    claim: JobClaim;
    reason: string;
    maxAttempts: number | undefined;
    countAttempt: boolean;
    now: number;
  }): Promise<ClaimWriteOutcome> {
    return this.#claimWrite(request.claim, this.#sql.abandon, [
      request.maxAttempts ?? null,
      request.reason,
      this.#sql.channel,
      request.countAttempt ? 1 : 0,
    ]);
  }

  async trash(request: { jobId: string; now: number }): Promise<TrashOutcome> {
    const params = [request.jobId, this.#sql.channel];
    const [row] = await this.#query<JobRow>(this.#sql.trash, params);
    if (row !== undefined) return { kind: 'trashed' };
    const job = await this.get(request.jobId);
    return job === undefined ? { kind: 'no-job' } : { kind: 'claimed', job };
  }

  async deleteFinished(request: {
    jobId: string;
    states: readonly ('COMPLETE' | 'DEAD_LETTER')[];
    before: number;
    now: number;
  }): Promise<boolean> {
    const params = [request.jobId, [...request.states], request.before, this.#sql.channel];
    const rows = await this.#query<JobRow>(this.#sql.deleteFinished, params);
    return rows.length === 1;
  }

  async redrive(request: { jobId: string; now: number }): Promise<RedriveOutcome> {
    const [row] = await this.#query<JobRow>(this.#sql.redrive, [request.jobId, this.#sql.channel]);
    if (row !== undefined) return { kind: 'redriven', job: jobFromRow(row) };
    const job = await this.get(request.jobId);
    return job === undefined ? { kind: 'no-job' } : { kind: 'not-dead', job };
  }

  async request(write: RequestWrite): Promise<RequestOutcome> {
    const params = [
      write.jobId,
      JSON.stringify(write.request),
      [...write.states],
      this.#sql.channel,
    ];
    const [row] = await this.#query<JobRow>(this.#sql.request, params);
    if (row !== undefined) return { kind: 'requested', job: jobFromRow(row) };
    const job = await this.get(write.jobId);
    return job === undefined ? { kind: 'no-job' } : { kind: 'refused', job };
  }

  async list(query: JobQuery & { readonly limit: number }): Promise<Page<Job>> {
    const after = decodeJobCursor(query.after);
    const params: (Param | readonly string[])[] = [
      after?.createdAt ?? null,
      after?.id ?? null,
      query.limit + 1,
    ];
    const where = ['($2::text IS NULL OR created_at > $1 OR (created_at = $1 AND id > $2))'];
    const add = (clause: (n: string) => string, value: string | readonly string[]): void => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (query.name !== undefined) add((n) => `name = ${n}`, query.name);
    if (query.owner !== undefined) add((n) => `owner = ${n}`, query.owner);
    if (query.states !== undefined) add((n) => `state = ANY(${n}::text[])`, query.states);
    const text = `SELECT * FROM ${quoteIdentifier(this.#schema)}.taskflow_jobs WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT $3`;
    const rows = await this.#query<JobRow>(this.#sql.named(text), params);
    return toPage(rows.map(jobFromRow), query.limit);
  }

  async heartbeatConductor(heartbeat: ConductorHeartbeat): Promise<void> {
    const meta = JSON.stringify(heartbeat.meta);
    await this.#query(this.#sql.upsertConductor, [heartbeat.name, heartbeat.ttlMs, meta]);
  }

  async unregisterConductor(name: string): Promise<void> {
    await this.#query(this.#sql.deleteConductor, [name]);
  }

  async listConductors(_now: number): Promise<ConductorInfo[]> {
    const rows = await this.#query<ConductorRow>(this.#sql.liveConductors, []);
    return rows.map(conductorFromRow);
  }

  subscribe(listener: (event: JobEvent) => void): Promise<() => void> {
    return this.#listener.add(listener);
  }

  async close(): Promise<void> {
    await this.#listener.close();
    if (this.#ownsPool) await this.#pool.end();
  }

  async #claimWrite(
    claim: JobClaim,
    statement: NamedStatement,
    rest: readonly Param[],
  ): Promise<ClaimWriteOutcome> {
    const [row] = await this.#query<JobRow>(statement, [
      claim.jobId,
      claim.token,
      claim.owner,
      ...rest,
    ]);
    if (row !== undefined) return { kind: 'written', job: jobFromRow(row) };
    const job = await this.get(claim.jobId);
    return job === undefined ? { kind: 'no-job' } : { kind: 'fenced', job };
  }

  async #query<R extends object>(
    statement: NamedStatement,
    values: readonly (Param | readonly string[])[],
  ): Promise<R[]> {
    const toError = (error: unknown): unknown => toPostgresJobBoardError(error, this.#schema);
    return (await runStatement<R>(this.#pool, statement, values, toError)).rows;
  }
}

/**
 * Opens a jobboard in PostgreSQL, creating or migrating its tables first (under an advisory
 * lock). The schema may be the run store's: each keeps its own version table.
 *
 * @example
 * const board = await openPostgresJobBoard({ url: 'postgres://app@db:5432/app', schema: 'taskflow' });
 * const claimed = await board.claim({ owner: 'conductor-1', ttlMs: 30_000, waitMs: 10_000 });
 */
export async function openPostgresJobBoard(options: PostgresJobBoardOptions): Promise<JobBoard> {
  const schema = schemaName(
    options.schema,
    (message) => new JobBoardError('INVALID_ARGUMENT', message),
  );
  const { pool, owned } = await connectPostgres(
    options,
    (made) => preparePostgresJobSchema(made, schema),
    (error) => toPostgresJobBoardError(error, schema),
  );
  return guardJobBoard(new PostgresJobBoardBackend({ pool, ownsPool: owned, schema }), options);
}
