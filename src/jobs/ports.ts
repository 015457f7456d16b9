import type { JsonValue } from '../core/failure.ts';
import type { OperatorRequest } from '../core/operator-request.ts';
import type { Page } from '../core/page.ts';
import type {
  ClaimedJob,
  ConductorInfo,
  Job,
  JobClaim,
  JobEvent,
  JobOutcome,
  JobSpec,
  JobState,
} from './model.ts';

/** Options of {@link JobPoster.wait}. */
export interface WaitOptions {
  /** Give up after this long with `WAIT_TIMEOUT`. Default: wait until the job finishes. */
  readonly timeoutMs?: number;
  /** Stops waiting; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** What whoever asks for work needs: post it, look at it, learn how it ended. */
export interface JobPoster {
  /**
   * Posts a job, UNCLAIMED. With an `idempotencyKey` already on the board, returns that job
   * unchanged instead (even when the spec differs), so a retried post never makes two jobs.
   */
  post(spec: JobSpec): Promise<Job>;
  /** The job, or undefined when no job has that id. */
  get(jobId: string): Promise<Job | undefined>;
  /**
   * Resolves with the job once it is COMPLETE (see `outcome`) or DEAD_LETTER (see
   * `deadLetterReason`). Rejects with `WAIT_TIMEOUT`, with `JOB_NOT_FOUND` when the job is or
   * gets trashed, or with the signal's reason when aborted.
   */
  wait(jobId: string, options?: WaitOptions): Promise<Job>;
}

/** Options of {@link JobClaimer.claim}. */
export interface ClaimOptions {
  /** Who claims: a conductor's unique name. It appears in listings and messages. */
  readonly owner: string;
  /** How long the claim lasts without an `extend`; after that the job may be taken over. */
  readonly ttlMs: number;
  /**
   * When nothing is claimable, wait up to this long for work to be posted or abandoned (woken
   * by the backend's notifications, not by busy polling). Default 0: answer at once.
   */
  readonly waitMs?: number;
  /** Stops waiting; the claim then resolves with undefined. */
  readonly signal?: AbortSignal;
}

/** Options of {@link JobClaimer.abandon}. */
export interface AbandonOptions {
  /** Why the attempt failed; kept as the dead-letter reason if this was the last attempt. */
  readonly reason: string;
  /**
   * Counting this one, the number of attempts after which the job goes to DEAD_LETTER instead
   * of back to UNCLAIMED. Default: no limit.
   */
  readonly maxAttempts?: number;
  /**
   * Default true. False gives the job back without counting an attempt (and so without
   * dead-lettering it): for an owner stopping on purpose, not for a failure.
   */
  readonly countAttempt?: boolean;
}

/** What a conductor needs to take jobs, hold them, and say how they ended. */
export interface JobClaimer {
  /**
   * Claims the claimable job (UNCLAIMED, or CLAIMED with an expired lease) with the highest
   * priority, oldest first, for `owner`; the job's token goes up by one. Among any number of
   * concurrent claimers, exactly one gets a given job. Undefined when there is none (after
   * `waitMs`). A claim the backend granted is returned even if the signal aborted meanwhile.
   * A reply that took longer than `ttlMs` may carry a lease that expired on the way, so it is
   * renewed first, and is no claim if another claimer took the job over meanwhile.
   */
  claim(options: ClaimOptions): Promise<ClaimedJob | undefined>;
  /** Renews the lease (a heartbeat) to now + `ttlMs`. `FENCED` when the claim is not current. */
  extend(claim: JobClaim, ttlMs: number): Promise<JobClaim>;
  /** Marks the job COMPLETE with its outcome and ends the claim. `FENCED` when not current. */
  consume(claim: JobClaim, outcome: JobOutcome): Promise<Job>;
  /**
   * Ends the claim without completing: the attempt is counted and the job goes back to
   * UNCLAIMED, or to DEAD_LETTER with `reason` when `maxAttempts` is reached. `FENCED` when
   * not current.
   */
  abandon(claim: JobClaim, options: AbandonOptions): Promise<Job>;
  /** Registers a live conductor, or renews it: listed until now + `ttlMs` unless renewed. */
  heartbeatConductor(conductor: {
    readonly name: string;
    readonly ttlMs: number;
    readonly meta?: { readonly [key: string]: JsonValue };
  }): Promise<void>;
  /** Removes a conductor from the live list at once (on a graceful stop). */
  unregisterConductor(name: string): Promise<void>;
}

/** Filters of {@link JobReader.list}; jobs come oldest first. */
export interface JobQuery {
  readonly states?: readonly JobState[];
  readonly name?: string;
  readonly owner?: string;
  /** 1..1000, default 100. */
  readonly limit?: number;
  readonly after?: string;
}

/** What an operator, the CLI or the service needs to inspect and tidy the board. */
export interface JobReader {
  list(query?: JobQuery): Promise<Page<Job>>;
  get(jobId: string): Promise<Job | undefined>;
  /** Conductors whose last heartbeat has not expired, by name. */
  listConductors(): Promise<ConductorInfo[]>;
  /**
   * Deletes the job (its idempotency key becomes free again). `JOB_CLAIMED` while an unexpired
   * claim holds it; `JOB_NOT_FOUND` when there is no such job.
   */
  trash(jobId: string): Promise<void>;
  /**
   * Leaves an operator's request on the job for the engine that runs it, while the job is in
   * one of `states` and no other request is pending; a COMPLETE job is reopened (UNCLAIMED) so a
   * conductor applies it. Its owner hears of it through a `requested` event and at its next
   * heartbeat (`JobClaim.request`). `REQUEST_REFUSED` otherwise; `JOB_NOT_FOUND` when there is
   * no such job. Use the conductor's `requestRunAction`, which checks the run's state first.
   */
  request(jobId: string, request: OperatorRequest, states: readonly JobState[]): Promise<Job>;
}

/** Which finished jobs {@link JobRetention.prune} deletes. Give `olderThanMs` or `before`. */
export interface JobPruneQuery {
  /** Jobs last updated (finished) more than this many milliseconds ago. */
  readonly olderThanMs?: number;
  /** Jobs last updated before this time (epoch milliseconds). */
  readonly before?: number;
  /** COMPLETE and/or DEAD_LETTER; default both. No other state may be pruned. */
  readonly states?: readonly ('COMPLETE' | 'DEAD_LETTER')[];
  /** At most this many jobs per call (1..1000, default 100); call again while `more`. */
  readonly limit?: number;
}

/** What an operator needs to keep a board tidy: retry dead letters, drop old finished jobs. */
export interface JobRetention {
  /**
   * Puts a DEAD_LETTER job back to UNCLAIMED with its attempts reset, so a conductor runs it
   * again. `JOB_NOT_FOUND` when there is no such job; `INVALID_ARGUMENT` when it is not
   * DEAD_LETTER.
   */
  redrive(jobId: string): Promise<Job>;
  /**
   * Deletes finished jobs (COMPLETE, DEAD_LETTER) last updated before the cutoff, oldest
   * first, at most `limit` of them; never an UNCLAIMED or CLAIMED job. `more` is true when
   * the batch was full, so there may be more to delete.
   */
  prune(
    query: JobPruneQuery,
  ): Promise<{ readonly deleted: readonly string[]; readonly more: boolean }>;
}

/** Options of {@link JobEvents.subscribe}. */
export interface SubscribeOptions {
  /** Unsubscribes when aborted. */
  readonly signal?: AbortSignal;
}

/** Changes on the board as they happen, from every process sharing it. */
export interface JobEvents {
  /**
   * Calls `listener` for each event from every process, until the returned function is called
   * or the signal aborts; resolves once listening, so every later change is delivered. A
   * listener that throws is ignored. Delivery is best effort (a dropped connection may lose
   * events), so use events to wake up and re-read, not as the record.
   */
  subscribe(listener: (event: JobEvent) => void, options?: SubscribeOptions): Promise<() => void>;
}

/** Every role at once, as `openJobBoard` returns it. */
export interface JobBoard extends JobPoster, JobClaimer, JobReader, JobEvents, JobRetention {
  /** Releases connections, timers and file handles. Idempotent; later calls fail with `BOARD_CLOSED`. */
  close(): Promise<void>;
}
