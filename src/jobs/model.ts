import type { FailureJson, JsonValue } from '../core/failure.ts';
import type { FlowRef } from '../core/flow-ref.ts';
import type { OperatorRequest } from '../core/operator-request.ts';

/**
 * Persisted spellings of a job's state. UNCLAIMED waits for a conductor; CLAIMED is held under
 * a lease; COMPLETE has an outcome; DEAD_LETTER is terminal too, for a job that failed to run
 * too many times (better than TaskFlow, where such a job cycles forever).
 */
export const JOB_STATES = ['UNCLAIMED', 'CLAIMED', 'COMPLETE', 'DEAD_LETTER'] as const;
/** Where a job is in its life on the board. */
export type JobState = (typeof JOB_STATES)[number];

/**
 * How the flow of a COMPLETE job ended. SUSPENDED is an operator's suspend: the run waits,
 * its job complete, until the operator resumes (or cancels) it, which reopens the job.
 */
export const JOB_OUTCOME_STATES = ['SUCCESS', 'REVERTED', 'FAILURE', 'SUSPENDED'] as const;
/** How the flow of a COMPLETE job ended. */
export type JobOutcomeState = (typeof JOB_OUTCOME_STATES)[number];

/** What a job's flow ended as; `failure` summarises why it did not succeed. */
export interface JobOutcome {
  readonly state: JobOutcomeState;
  readonly failure?: FailureJson;
  /**
   * SUCCESS only: what the job's flow provides (its outputs), so a client that waits for the
   * job gets its result; absent when their JSON is over {@link MAX_OUTCOME_OUTPUTS_BYTES}.
   */
  readonly outputs?: { readonly [symbol: string]: JsonValue };
  /**
   * Set instead of `outputs` when they are too large for the board: read them from the run
   * store with `fetchRun` (the run's id is the job's id).
   */
  readonly outputsRef?: { readonly runId: string; readonly bytes: number };
}

/** The largest outputs a job's outcome carries inline (64 KiB of JSON). */
export const MAX_OUTCOME_OUTPUTS_BYTES = 64 * 1024;

export type { FlowRef } from '../core/flow-ref.ts';

/** The inputs given to the job's flow (its `store`). */
export type JobStore = { readonly [key: string]: JsonValue };

/**
 * A request to run a flow, as stored on a jobboard. Plain JSON data; absent values are `null`
 * so that every backend returns the same shape.
 */
export interface Job {
  readonly id: string;
  readonly name: string;
  readonly flow: FlowRef;
  readonly store: JobStore;
  /** Higher runs first; equal priorities run oldest first. */
  readonly priority: number;
  /** Posting again with the same key returns this job instead of making another. */
  readonly idempotencyKey: string | null;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly state: JobState;
  /** Who holds (or last held) the claim; null until first claimed. */
  readonly owner: string | null;
  /** When the current claim lapses (epoch ms); null unless CLAIMED. */
  readonly leaseExpiresAt: number | null;
  /** The fencing token: 0 when posted, one more at each claim. Only the newest may write. */
  readonly token: number;
  /** Claims that ended without completing: abandons, and leases found expired at a takeover. */
  readonly attempts: number;
  /** Set when COMPLETE. */
  readonly outcome: JobOutcome | null;
  /** Why the job went to DEAD_LETTER. */
  readonly deadLetterReason: string | null;
  /**
   * An operator's request for the job's run, waiting for the engine that applies it (the
   * owner hears of it at its next heartbeat, or at once through a `requested` event); cleared
   * when the job completes.
   */
  readonly request: OperatorRequest | null;
}

/** What a poster gives; everything else is filled in by the board. */
export interface JobSpec {
  /**
   * The job's id (and so its run's id), when the poster chooses it; a random UUID by default.
   * Needs an `idempotencyKey` too, so that posting it again returns the job instead of failing.
   */
  readonly id?: string;
  readonly name: string;
  readonly flow: FlowRef;
  /** Default `{}`. */
  readonly store?: JobStore;
  /** A whole number from -1,000,000 to 1,000,000. Default 0. */
  readonly priority?: number;
  readonly idempotencyKey?: string;
}

/** The lowest and highest job priority (the Redis board keeps priority in a sorted-set score). */
export const MIN_PRIORITY = -1_000_000;
/** The highest job priority; see {@link MIN_PRIORITY}. */
export const MAX_PRIORITY = 1_000_000;

/** The right to run one job until `expiresAt`; pass it with every write about the job. */
export interface JobClaim {
  readonly jobId: string;
  readonly owner: string;
  /** The job's fencing token at this claim; a later claim by anyone has a bigger one. */
  readonly token: number;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** The operator's request pending on the job when the claim was granted or last renewed. */
  readonly request?: OperatorRequest;
}

/** What a successful claim returns: the job as claimed, and the claim to write with. */
export interface ClaimedJob {
  readonly job: Job;
  readonly claim: JobClaim;
}

/** A conductor that heartbeated recently enough to count as alive. */
export interface ConductorInfo {
  readonly name: string;
  /** Epoch ms of its last heartbeat. */
  readonly lastSeenAt: number;
  /** When it stops being listed unless it heartbeats again. */
  readonly expiresAt: number;
  readonly meta: { readonly [key: string]: JsonValue };
}

/** What board subscribers are told about. */
export const JOB_EVENT_TYPES = [
  'posted',
  'claimed',
  'completed',
  'abandoned',
  'trashed',
  'requested',
] as const;
/** One kind of board event. */
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

/**
 * A change on the board. `abandoned` covers both a return to UNCLAIMED and a move to
 * DEAD_LETTER (see `state`). Lease renewals make no event.
 */
export interface JobEvent {
  readonly type: JobEventType;
  readonly jobId: string;
  readonly jobName: string;
  /** The job's state after the change (for `trashed`, its state before). */
  readonly state: JobState;
  /** Epoch ms of the change. */
  readonly at: number;
}

/** True for the states a job never leaves: COMPLETE and DEAD_LETTER. */
export function isTerminal(state: JobState): boolean {
  return state === 'COMPLETE' || state === 'DEAD_LETTER';
}
