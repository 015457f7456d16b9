import type { Page } from '../../core/page.ts';
import { isAfter, toPage } from '../../drivers/cursor-paging.ts';
import { RedisConnection } from '../../drivers/redis/redis-connection.ts';
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
import { parseJobEvent } from '../job-row.ts';
import type { ConductorInfo, Job, JobClaim, JobEvent, JobOutcome } from '../model.ts';
import type { JobBoard, JobQuery } from '../ports.ts';
import { encodeSpec, fieldsOf, jobFromHash, rankOf } from './redis-job-codec.ts';
import { toRedisJobBoardError } from './redis-job-errors.ts';
import { REDIS_JOB_SCRIPTS, type RedisScript } from './redis-job-scripts.ts';

/** Options of {@link openRedisJobBoard}. */
export interface RedisJobBoardOptions extends JobBoardOptions {
  /** `redis://[user:password@]host:6379/db`. */
  readonly url: string;
  /** Every key and the event channel start with this; boards with another prefix never meet. Default `taskflow`. */
  readonly prefix?: string;
}

/** How many job ids a listing reads per round trip while filtering. */
const LIST_BATCH = 200;

/**
 * The jobboard on a single Redis server (not Cluster: scripts touch keys they find). Claims,
 * renewals, completion, abandon and trash are Lua scripts, atomic on the server, each
 * checking state, token and owner; lease expiry compares times inside the script rather than
 * relying on key TTLs, so no job is ever lost to an expiry, and every lease time is the
 * server's clock (`TIME`), read in the script: see `redis-job-scripts.ts`. Every change is
 * PUBLISHed on the board's channel from inside its script, which wakes idle claimers without
 * polling.
 *
 * The connection has no offline queue: while it is down, every call fails at once with
 * `BOARD_UNAVAILABLE`, naming the server and the last connection error, and the caller backs
 * off; nothing waits in the client to run later (see `redis-connection.ts`).
 */
export class RedisJobBoardBackend implements JobBoardBackend {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #listeners = new Set<(event: JobEvent) => void>();
  #subscriber: Promise<RedisConnection> | undefined;

  constructor(options: { connection: RedisConnection; prefix: string }) {
    this.#connection = options.connection;
    this.#prefix = options.prefix;
  }

  get #redis(): RedisConnection['client'] {
    return this.#connection.client;
  }

  async post(job: Job): Promise<PostOutcome> {
    const reply = await this.#run(REDIS_JOB_SCRIPTS.post, [
      job.id,
      encodeSpec(job),
      job.name,
      job.idempotencyKey ?? '',
      job.createdAt,
      -job.priority,
      rankOf(job),
    ]);
    const kind = reply[0] === 'existing' ? 'existing' : 'posted';
    return { kind, job: jobFromHash(fieldsOf(reply[1])) };
  }

  async get(jobId: string): Promise<Job | undefined> {
    const fields = await this.#call(() => this.#redis.hgetall(this.#key(`job:${jobId}`)));
    return Object.keys(fields).length === 0 ? undefined : jobFromHash(fields);
  }

  async claim(request: { owner: string; ttlMs: number; now: number }): Promise<Job | undefined> {
    const reply = await this.#run(REDIS_JOB_SCRIPTS.claim, [request.owner, request.ttlMs]);
    return reply.length === 0 ? undefined : jobFromHash(fieldsOf(reply));
  }

  /** Timed with the server's clock; `request.now` is not used. */
  async untilLeaseExpiry(_request: { now: number }): Promise<number | undefined> {
    const ms = (await this.#run(REDIS_JOB_SCRIPTS.untilLeaseExpiry, [])) as unknown as number;
    return ms < 0 ? undefined : ms;
  }

  async extend(request: {
    claim: JobClaim;
    ttlMs: number;
    now: number;
  }): Promise<ClaimWriteOutcome> {
    return this.#claimWrite(REDIS_JOB_SCRIPTS.extend, request.claim, [request.ttlMs]);
  }

  async consume(request: {
    claim: JobClaim;
    outcome: JobOutcome;
    now: number;
  }): Promise<ClaimWriteOutcome> {
    return this.#claimWrite(REDIS_JOB_SCRIPTS.consume, request.claim, [
      JSON.stringify(request.outcome),
    ]);
  }

  async abandon(request: {
    claim: JobClaim;
    reason: string;
    maxAttempts: number | undefined;
    countAttempt: boolean;
    now: number;
  }): Promise<ClaimWriteOutcome> {
    return this.#claimWrite(REDIS_JOB_SCRIPTS.abandon, request.claim, [
      request.reason,
      request.maxAttempts ?? '',
      request.countAttempt ? 1 : 0,
    ]);
  }

  async trash(request: { jobId: string; now: number }): Promise<TrashOutcome> {
    const reply = await this.#run(REDIS_JOB_SCRIPTS.trash, [request.jobId]);
    switch (reply[0]) {
      case 'trashed':
        return { kind: 'trashed' };
      case 'claimed':
        return { kind: 'claimed', job: jobFromHash(fieldsOf(reply[1])) };
      default:
        return { kind: 'no-job' };
    }
  }

  async request(write: RequestWrite): Promise<RequestOutcome> {
    const reply = await this.#run(REDIS_JOB_SCRIPTS.request, [
      write.jobId,
      JSON.stringify(write.request),
      `,${write.states.join(',')},`,
    ]);
    switch (reply[0]) {
      case 'requested':
        return { kind: 'requested', job: jobFromHash(fieldsOf(reply[1])) };
      case 'refused':
        return { kind: 'refused', job: jobFromHash(fieldsOf(reply[1])) };
      default:
        return { kind: 'no-job' };
    }
  }

  async deleteFinished(request: {
    jobId: string;
    states: readonly ('COMPLETE' | 'DEAD_LETTER')[];
    before: number;
    now: number;
  }): Promise<boolean> {
    const states = `,${request.states.join(',')},`;
    const reply = await this.#run(REDIS_JOB_SCRIPTS.deleteFinished, [
      request.jobId,
      states,
      request.before,
    ]);
    return reply[0] === 'deleted';
  }

  async redrive(request: { jobId: string; now: number }): Promise<RedriveOutcome> {
    const reply = await this.#run(REDIS_JOB_SCRIPTS.redrive, [request.jobId]);
    switch (reply[0]) {
      case 'redriven':
        return { kind: 'redriven', job: jobFromHash(fieldsOf(reply[1])) };
      case 'not-dead':
        return { kind: 'not-dead', job: jobFromHash(fieldsOf(reply[1])) };
      default:
        return { kind: 'no-job' };
    }
  }

  /** Walks the creation-time index from the cursor, filtering each batch of jobs. */
  async list(query: JobQuery & { readonly limit: number }): Promise<Page<Job>> {
    const after = decodeJobCursor(query.after);
    const found: Job[] = [];
    let offset = 0;
    while (found.length <= query.limit) {
      const ids = await this.#call(() =>
        this.#redis.zrangebyscore(
          this.#key('all'),
          after?.createdAt ?? '-inf',
          '+inf',
          'LIMIT',
          offset,
          LIST_BATCH,
        ),
      );
      if (ids.length === 0) break;
      offset += ids.length;
      const pipeline = this.#redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.#key(`job:${id}`));
      const replies = (await this.#call(() => pipeline.exec())) ?? [];
      for (const [, fields] of replies) {
        const record = fields as Record<string, string>;
        if (Object.keys(record).length === 0) continue; // trashed since the index was read
        const job = jobFromHash(record);
        if (isAfter(job, after) && matches(job, query)) found.push(job);
      }
    }
    return toPage(found.slice(0, query.limit + 1), query.limit);
  }

  async heartbeatConductor(heartbeat: ConductorHeartbeat): Promise<void> {
    await this.#run(REDIS_JOB_SCRIPTS.heartbeat, [
      heartbeat.name,
      heartbeat.ttlMs,
      JSON.stringify(heartbeat.name),
      JSON.stringify(heartbeat.meta),
    ]);
  }

  async unregisterConductor(name: string): Promise<void> {
    await this.#call(() => this.#redis.hdel(this.#key('conductors'), name));
  }

  /** Filtered here, by the server's time the script read, so Lua never re-encodes meta. */
  async listConductors(_now: number): Promise<ConductorInfo[]> {
    const live = await this.#run(REDIS_JOB_SCRIPTS.conductors, []);
    return Object.values(fieldsOf(live))
      .map((text) => JSON.parse(text) as ConductorInfo)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async subscribe(listener: (event: JobEvent) => void): Promise<() => void> {
    const wrapped = (event: JobEvent): void => listener(event);
    this.#listeners.add(wrapped);
    try {
      this.#subscriber ??= this.#startSubscriber();
      await this.#subscriber;
    } catch (error) {
      this.#listeners.delete(wrapped);
      this.#subscriber = undefined;
      throw this.#error(error);
    }
    return () => {
      this.#listeners.delete(wrapped);
    };
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    const subscriber = await this.#subscriber?.catch(() => undefined);
    subscriber?.client.disconnect();
    await this.#connection.close();
  }

  /**
   * One connection in subscriber mode, kept until close; ioredis reconnects and resubscribes
   * after a drop (events sent meanwhile are lost; waiters re-read every `recheckMs`). Its
   * errors are recorded on its own {@link RedisConnection}, for the next subscribe's message.
   */
  async #startSubscriber(): Promise<RedisConnection> {
    const subscriber = this.#connection.duplicate();
    subscriber.client.on('message', (_channel: string, message: string) => {
      const event = parseJobEvent(message);
      if (event === undefined) return;
      for (const listener of this.#listeners) listener(event);
    });
    try {
      await subscriber.connect();
      await subscriber.client.subscribe(this.#key('events'));
    } catch (error) {
      subscriber.client.disconnect();
      throw toRedisJobBoardError(error, subscriber);
    }
    return subscriber;
  }

  async #claimWrite(
    script: RedisScript,
    claim: JobClaim,
    rest: readonly (string | number)[],
  ): Promise<ClaimWriteOutcome> {
    const reply = await this.#run(script, [claim.jobId, claim.token, claim.owner, ...rest]);
    switch (reply[0]) {
      case 'written':
        return { kind: 'written', job: jobFromHash(fieldsOf(reply[1])) };
      case 'fenced':
        return { kind: 'fenced', job: jobFromHash(fieldsOf(reply[1])) };
      default:
        return { kind: 'no-job' };
    }
  }

  /** EVALSHA, falling back to EVAL once when the server does not know the script yet. */
  async #run(script: RedisScript, args: readonly (string | number)[]): Promise<unknown[]> {
    const argv = [this.#prefix, ...args];
    return this.#call(async () => {
      try {
        return (await this.#redis.evalsha(script.sha, 0, ...argv)) as unknown[];
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return (await this.#redis.eval(script.source, 0, ...argv)) as unknown[];
      }
    });
  }

  async #call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.#error(error);
    }
  }

  #error(error: unknown): unknown {
    return toRedisJobBoardError(error, this.#connection);
  }

  #key(name: string): string {
    return `${this.#prefix}:${name}`;
  }
}

function matches(job: Job, query: JobQuery): boolean {
  return (
    (query.states === undefined || query.states.includes(job.state)) &&
    (query.name === undefined || job.name === query.name) &&
    (query.owner === undefined || job.owner === query.owner)
  );
}

/**
 * Opens a jobboard on a Redis server, checking first that it answers.
 *
 * @example
 * const board = await openRedisJobBoard({ url: 'redis://127.0.0.1:6379/0', prefix: 'app-jobs' });
 * const claimed = await board.claim({ owner: 'conductor-1', ttlMs: 30_000, waitMs: 10_000 });
 */
export async function openRedisJobBoard(options: RedisJobBoardOptions): Promise<JobBoard> {
  const prefix = options.prefix ?? 'taskflow';
  if (prefix.length === 0) {
    throw new JobBoardError(
      'INVALID_ARGUMENT',
      'The Redis key prefix is empty; pass one such as "taskflow", or omit it for the default.',
    );
  }
  const connection = RedisConnection.create(options.url);
  try {
    await connection.connect();
  } catch (error) {
    throw toRedisJobBoardError(error, connection);
  }
  return guardJobBoard(new RedisJobBoardBackend({ connection, prefix }), options);
}
