import type { JsonValue } from '../core/failure.ts';
import type { OperatorRequest } from '../core/operator-request.ts';
import type { Page } from '../core/page.ts';
import type { ConductorInfo, Job, JobClaim, JobEvent, JobOutcome, JobState } from './model.ts';
import type { JobQuery } from './ports.ts';

/** What became of a write by a claim holder. Refusals carry the job as stored, to explain them. */
export type ClaimWriteOutcome =
  | { readonly kind: 'written'; readonly job: Job }
  | { readonly kind: 'no-job' }
  | { readonly kind: 'fenced'; readonly job: Job };

/** What became of a post: a new job, or the one already posted with that idempotency key. */
export type PostOutcome =
  | { readonly kind: 'posted'; readonly job: Job }
  | { readonly kind: 'existing'; readonly job: Job };

/** A conductor's heartbeat, for the backend to stamp with its clock (see {@link JobBoardBackend}). */
export interface ConductorHeartbeat {
  readonly name: string;
  readonly ttlMs: number;
  readonly meta: { readonly [key: string]: JsonValue };
  /** The guard's clock. */
  readonly now: number;
}

/** What became of a trash request. */
export type TrashOutcome =
  | { readonly kind: 'trashed' }
  | { readonly kind: 'no-job' }
  | { readonly kind: 'claimed'; readonly job: Job };

/** What became of a redrive request. */
export type RedriveOutcome =
  | { readonly kind: 'redriven'; readonly job: Job }
  | { readonly kind: 'no-job' }
  | { readonly kind: 'not-dead'; readonly job: Job };

/** What became of an operator's request: refused when another is pending or the state differs. */
export type RequestOutcome =
  | { readonly kind: 'requested'; readonly job: Job }
  | { readonly kind: 'no-job' }
  | { readonly kind: 'refused'; readonly job: Job };

/** An operator's request for a job's run, as the guard hands it to the backend. */
export interface RequestWrite {
  readonly jobId: string;
  readonly request: OperatorRequest;
  /** The job states the request may be set in; a COMPLETE job is reopened by it. */
  readonly states: readonly JobState[];
  readonly now: number;
}

/**
 * What a storage technology implements. Each write is atomic: the state, token and lease
 * checks and the change happen in one statement, transaction or script, so racing processes
 * cannot both win. Backends never throw for refusals; they report them, and
 * {@link guardJobBoard} turns them into errors, validates arguments and supplies the time, for
 * every backend alike. Driver failures are thrown as `JobBoardError`s (`BOARD_UNAVAILABLE`,
 * `BOARD_CORRUPT`).
 *
 * Time: every request carries `now`, the guard's clock. A backend on one machine (memory,
 * SQLite) uses it, so its single local clock decides leases. A backend on a server (PostgreSQL,
 * Redis) ignores it for everything it stamps or compares (lease expiry, `updatedAt`, conductor
 * times) and reads its server's clock inside the statement or script instead: a request can
 * wait in a socket, a queue or a lock for seconds, and a lease computed from a time taken
 * before that would already have run out when granted; and many machines' clocks disagree,
 * while the server's is one. Only a post's `createdAt` (set by the guard) orders jobs.
 *
 * A claim write is accepted only while the job is CLAIMED with the claim's token and owner;
 * an expired lease that nobody took over yet still counts as current.
 */
export interface JobBoardBackend {
  /** Stores `job` (built by the guard) unless its idempotency key is taken. */
  post(job: Job): Promise<PostOutcome>;
  get(jobId: string): Promise<Job | undefined>;
  /**
   * Claims the best job that is UNCLAIMED, or CLAIMED with `leaseExpiresAt <= now` (then the
   * attempt count goes up by one): highest priority, then oldest `createdAt`, then smallest id.
   */
  claim(request: { owner: string; ttlMs: number; now: number }): Promise<Job | undefined>;
  /**
   * Milliseconds from now (the backend's clock, as for `claim`) until the earliest lease of a
   * CLAIMED job expires, 0 when one already has; undefined when no job is claimed. A claimer
   * with nothing to claim sleeps until then, so a dead owner's job is taken over at expiry.
   */
  untilLeaseExpiry(request: { now: number }): Promise<number | undefined>;
  extend(request: { claim: JobClaim; ttlMs: number; now: number }): Promise<ClaimWriteOutcome>;
  consume(request: {
    claim: JobClaim;
    outcome: JobOutcome;
    now: number;
  }): Promise<ClaimWriteOutcome>;
  /**
   * Ends the claim. With `countAttempt`, counts the attempt and moves the job to DEAD_LETTER
   * with `reason` when the count reaches `maxAttempts`; without, only gives the job back.
   */
  abandon(request: {
    claim: JobClaim;
    reason: string;
    maxAttempts: number | undefined;
    countAttempt: boolean;
    now: number;
  }): Promise<ClaimWriteOutcome>;
  /** Deletes the job unless it is CLAIMED with an unexpired lease. */
  trash(request: { jobId: string; now: number }): Promise<TrashOutcome>;
  /**
   * Moves a DEAD_LETTER job back to UNCLAIMED (attempts 0, no owner, lease or dead-letter
   * reason; the token is kept so older claims stay fenced); any other state is `not-dead`.
   */
  redrive(request: { jobId: string; now: number }): Promise<RedriveOutcome>;
  /**
   * Sets the job's pending operator request, only while none is pending and the job's state is
   * one of `states`, in one atomic step. A COMPLETE job is reopened by it: UNCLAIMED, attempts
   * 0, no outcome, the token kept. Publishes `requested` with the state after. `consume` clears
   * the request.
   */
  request(write: RequestWrite): Promise<RequestOutcome>;
  /**
   * Deletes the job, as `trash` does, only while its state is one of `states` (finished ones,
   * checked by the guard) and it was last updated before `before`, in one atomic step; reports
   * whether it did.
   */
  deleteFinished(request: {
    jobId: string;
    states: readonly ('COMPLETE' | 'DEAD_LETTER')[];
    before: number;
    now: number;
  }): Promise<boolean>;
  /** Query already validated; `limit` is set. */
  list(query: JobQuery & { readonly limit: number }): Promise<Page<Job>>;
  /** Registers or renews a conductor: last seen now, listed until now + `ttlMs`. */
  heartbeatConductor(heartbeat: ConductorHeartbeat): Promise<void>;
  unregisterConductor(name: string): Promise<void>;
  /** Conductors whose registration has not expired, by name. */
  listConductors(now: number): Promise<ConductorInfo[]>;
  /**
   * Delivers events from every process sharing the board; resolves, with the unsubscribe
   * function, once every later event will be delivered.
   */
  subscribe(listener: (event: JobEvent) => void): Promise<() => void>;
  close(): Promise<void>;
}
