import type Database from 'better-sqlite3';
import type { Page } from '../../core/page.ts';
import { toPage } from '../../drivers/cursor-paging.ts';
import { openSqliteFile } from '../../drivers/sqlite/sqlite-file.ts';
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
import { decodeJobCursor } from '../job-paging.ts';
import {
  type ConductorRow,
  conductorFromRow,
  type JobRow,
  jobFromRow,
  jobParams,
} from '../job-row.ts';
import type { ConductorInfo, Job, JobClaim, JobEvent, JobEventType, JobOutcome } from '../model.ts';
import type { JobBoard, JobQuery } from '../ports.ts';
import { toSqliteJobBoardError } from './sqlite-job-errors.ts';
import { prepareSqliteJobSchema } from './sqlite-job-schema.ts';
import { type SqliteJobStatements, sqliteJobStatements } from './sqlite-job-statements.ts';

/** Options of {@link createSqliteJobBoard}. */
export interface SqliteJobBoardOptions extends JobBoardOptions {
  /** The database file; created (with its schema) when missing. May be the run store's file. */
  readonly path: string;
  /** How long a write waits for another process's write lock before failing. Default 5000. */
  readonly busyTimeoutMs?: number;
  /**
   * How often a board with subscribers (or a waiting `claim`/`wait`) reads the event log.
   * SQLite cannot push to other processes, so this bounds how late they hear of a change,
   * e.g. how long an idle claimer takes to see a new job. Default 25.
   */
  readonly pollMs?: number;
}

interface EventRow {
  readonly seq: number;
  readonly type: JobEventType;
  readonly job_id: string;
  readonly job_name: string;
  readonly state: Job['state'];
  readonly at: number;
}

/**
 * The embedded jobboard: one SQLite file (WAL) shared by several processes on one host. A
 * claim is one UPDATE ... RETURNING in an IMMEDIATE transaction with its event, so exactly one
 * of many claimers wins; claim writes check state, token and owner in their WHERE clause.
 * Notifications are rows of an event log that every board with listeners polls.
 */
export class SqliteJobBoardBackend implements JobBoardBackend {
  readonly #db: Database.Database;
  readonly #path: string;
  readonly #sql: SqliteJobStatements;
  readonly #pollMs: number;
  readonly #listeners = new Set<(event: JobEvent) => void>();
  #timer: NodeJS.Timeout | undefined;
  #lastSeq = 0;

  constructor(options: SqliteJobBoardOptions) {
    this.#path = options.path;
    this.#pollMs = options.pollMs ?? 25;
    this.#db = openDatabase(options);
    this.#sql = sqliteJobStatements(this.#db);
  }

  async post(job: Job): Promise<PostOutcome> {
    return this.#write(() => {
      const row = this.#sql.insertJob.get(jobParams(job)) as JobRow | undefined;
      if (row === undefined) {
        const existing = this.#sql.selectByKey.get({ key: job.idempotencyKey }) as JobRow;
        return { kind: 'existing', job: jobFromRow(existing) };
      }
      const posted = jobFromRow(row);
      this.#event('posted', posted, posted.createdAt);
      this.#sql.pruneEvents.run();
      return { kind: 'posted', job: posted };
    });
  }

  async get(jobId: string): Promise<Job | undefined> {
    return this.#read(() => this.#job(jobId));
  }

  async untilLeaseExpiry(request: { now: number }): Promise<number | undefined> {
    const row = this.#read(() => this.#sql.earliestLease.get()) as { at: number | null };
    return row.at === null ? undefined : Math.max(0, row.at - request.now);
  }

  async claim(request: { owner: string; ttlMs: number; now: number }): Promise<Job | undefined> {
    return this.#write(() => {
      const row = this.#sql.claim.get({
        owner: request.owner,
        now: request.now,
        expiresAt: request.now + request.ttlMs,
      }) as JobRow | undefined;
      if (row === undefined) return undefined;
      const job = jobFromRow(row);
      this.#event('claimed', job, request.now);
      return job;
    });
  }

  async extend(request: {
    claim: JobClaim;
    ttlMs: number;
    now: number;
  }): Promise<ClaimWriteOutcome> {
    return this.#claimWrite(request.claim, undefined, () =>
      this.#sql.extend.get({
        ...held(request.claim),
        now: request.now,
        expiresAt: request.now + request.ttlMs,
      }),
    );
  }

  async consume(request: {
    claim: JobClaim;
    outcome: JobOutcome;
    now: number;
  }): Promise<ClaimWriteOutcome> {
    return this.#claimWrite(request.claim, 'completed', () =>
      this.#sql.consume.get({
        ...held(request.claim),
        now: request.now,
        outcome: JSON.stringify(request.outcome),
      }),
    );
  }

  async abandon(request: {
    claim: JobClaim;
    reason: string;
    maxAttempts: number | undefined;
    countAttempt: boolean;
    now: number;
  }): Promise<ClaimWriteOutcome> {
    return this.#claimWrite(request.claim, 'abandoned', () =>
      this.#sql.abandon.get({
        ...held(request.claim),
        now: request.now,
        reason: request.reason,
        maxAttempts: request.maxAttempts ?? null,
        increment: request.countAttempt ? 1 : 0,
      }),
    );
  }

  async trash(request: { jobId: string; now: number }): Promise<TrashOutcome> {
    return this.#write(() => {
      const row = this.#sql.trash.get({ id: request.jobId, now: request.now }) as
        | JobRow
        | undefined;
      if (row !== undefined) {
        this.#event('trashed', jobFromRow(row), request.now);
        return { kind: 'trashed' };
      }
      const job = this.#job(request.jobId);
      return job === undefined ? { kind: 'no-job' } : { kind: 'claimed', job };
    });
  }

  async deleteFinished(request: {
    jobId: string;
    states: readonly ('COMPLETE' | 'DEAD_LETTER')[];
    before: number;
    now: number;
  }): Promise<boolean> {
    return this.#write(() => {
      const row = this.#sql.deleteFinished.get({
        id: request.jobId,
        states: `,${request.states.join(',')},`,
        before: request.before,
      }) as JobRow | undefined;
      if (row === undefined) return false;
      this.#event('trashed', jobFromRow(row), request.now);
      return true;
    });
  }

  async redrive(request: { jobId: string; now: number }): Promise<RedriveOutcome> {
    return this.#write(() => {
      const row = this.#sql.redrive.get({ id: request.jobId, now: request.now }) as
        | JobRow
        | undefined;
      if (row !== undefined) {
        const job = jobFromRow(row);
        this.#event('abandoned', job, request.now);
        return { kind: 'redriven', job };
      }
      const job = this.#job(request.jobId);
      return job === undefined ? { kind: 'no-job' } : { kind: 'not-dead', job };
    });
  }

  async request(write: RequestWrite): Promise<RequestOutcome> {
    return this.#write(() => {
      const row = this.#sql.request.get({
        id: write.jobId,
        request: JSON.stringify(write.request),
        states: `,${write.states.join(',')},`,
        now: write.now,
      }) as JobRow | undefined;
      if (row !== undefined) {
        const job = jobFromRow(row);
        this.#event('requested', job, write.now);
        return { kind: 'requested', job };
      }
      const job = this.#job(write.jobId);
      return job === undefined ? { kind: 'no-job' } : { kind: 'refused', job };
    });
  }

  async list(query: JobQuery & { readonly limit: number }): Promise<Page<Job>> {
    const after = decodeJobCursor(query.after);
    const params: Record<string, string | number | null> = {
      afterAt: after?.createdAt ?? null,
      afterId: after?.id ?? null,
      limit: query.limit + 1,
    };
    const where = [
      '(:afterId IS NULL OR created_at > :afterAt OR (created_at = :afterAt AND id > :afterId))',
    ];
    if (query.name !== undefined) {
      params.name = query.name;
      where.push('name = :name');
    }
    if (query.owner !== undefined) {
      params.owner = query.owner;
      where.push('owner = :owner');
    }
    if (query.states !== undefined) {
      const names = query.states.map((state, index) => {
        params[`state${index}`] = state;
        return `:state${index}`;
      });
      where.push(names.length === 0 ? '0' : `state IN (${names.join(', ')})`);
    }
    const text = `SELECT * FROM taskflow_jobs WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT :limit`;
    return this.#read(() => {
      const rows = this.#db.prepare(text).all(params) as JobRow[];
      return toPage(rows.map(jobFromRow), query.limit);
    });
  }

  async heartbeatConductor(heartbeat: ConductorHeartbeat): Promise<void> {
    await this.#write(() =>
      this.#sql.upsertConductor.run({
        name: heartbeat.name,
        lastSeenAt: heartbeat.now,
        expiresAt: heartbeat.now + heartbeat.ttlMs,
        meta: JSON.stringify(heartbeat.meta),
      }),
    );
  }

  async unregisterConductor(name: string): Promise<void> {
    await this.#write(() => this.#sql.deleteConductor.run({ name }));
  }

  async listConductors(now: number): Promise<ConductorInfo[]> {
    return this.#read(() =>
      (this.#sql.liveConductors.all({ now }) as ConductorRow[]).map(conductorFromRow),
    );
  }

  async subscribe(listener: (event: JobEvent) => void): Promise<() => void> {
    const wrapped = (event: JobEvent): void => listener(event);
    if (this.#listeners.size === 0) {
      this.#lastSeq = this.#read(() => (this.#sql.lastEvent.get() as { seq: number }).seq);
      this.#timer = setInterval(() => this.#poll(), this.#pollMs);
    }
    this.#listeners.add(wrapped);
    return () => {
      this.#listeners.delete(wrapped);
      if (this.#listeners.size === 0) clearInterval(this.#timer);
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#listeners.clear();
    this.#db.close();
  }

  #poll(): void {
    let rows: EventRow[];
    try {
      rows = this.#sql.eventsAfter.all({ seq: this.#lastSeq }) as EventRow[];
    } catch {
      return; // Busy or briefly unreadable: the next tick tries again; waiters also re-read.
    }
    for (const row of rows) {
      this.#lastSeq = row.seq;
      const event: JobEvent = {
        type: row.type,
        jobId: row.job_id,
        jobName: row.job_name,
        state: row.state,
        at: row.at,
      };
      for (const listener of this.#listeners) listener(event);
    }
  }

  #claimWrite(
    claim: JobClaim,
    type: JobEventType | undefined,
    update: () => unknown,
  ): Promise<ClaimWriteOutcome> {
    return this.#write(() => {
      const row = update() as JobRow | undefined;
      if (row !== undefined) {
        const job = jobFromRow(row);
        if (type !== undefined) this.#event(type, job, job.updatedAt);
        return { kind: 'written', job };
      }
      const job = this.#job(claim.jobId);
      return job === undefined ? { kind: 'no-job' } : { kind: 'fenced', job };
    });
  }

  #job(jobId: string): Job | undefined {
    const row = this.#sql.selectJob.get({ id: jobId }) as JobRow | undefined;
    return row === undefined ? undefined : jobFromRow(row);
  }

  #event(type: JobEventType, job: Job, at: number): void {
    this.#sql.insertEvent.run({ type, jobId: job.id, jobName: job.name, state: job.state, at });
  }

  /** Runs `work` in an IMMEDIATE transaction: the write lock is taken before anything is read. */
  async #write<T>(work: () => T): Promise<T> {
    return this.#read(() => this.#db.transaction(work).immediate());
  }

  #read<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw toSqliteJobBoardError(error, this.#path);
    }
  }
}

/**
 * Opens a jobboard in a SQLite file, creating or migrating its tables first. The file may be
 * the run store's: each keeps its own schema version.
 *
 * @example
 * const board = createSqliteJobBoard({ path: '/var/lib/app/taskflow.db' });
 * const job = await board.post({ name: 'nightly', flow: { name: 'report', version: '2' } });
 */
export function createSqliteJobBoard(options: SqliteJobBoardOptions): JobBoard {
  return guardJobBoard(new SqliteJobBoardBackend(options), options);
}

function held(claim: JobClaim): Record<string, string | number> {
  return { id: claim.jobId, token: claim.token, owner: claim.owner };
}

function openDatabase(options: SqliteJobBoardOptions): Database.Database {
  return openSqliteFile({
    path: options.path,
    busyTimeoutMs: options.busyTimeoutMs,
    prepare: (db) => prepareSqliteJobSchema(db, options.path),
    synchronous: 'NORMAL',
    toError: (error) => toSqliteJobBoardError(error, options.path),
  });
}
