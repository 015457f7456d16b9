import { randomUUID } from 'node:crypto';
import type { FailureJson, JsonValue } from '../../core/failure.ts';

/** Where a worker task is: waiting, held by a worker under a lease, or done. */
export const WORKER_TASK_STATES = ['QUEUED', 'CLAIMED', 'COMPLETED', 'FAILED'] as const;
export type WorkerTaskState = (typeof WORKER_TASK_STATES)[number];

/** What an engine asks a worker to do for one atom. */
export interface WorkerTaskOffer {
  /** The task type workers claim by (a document's `taskType`). */
  readonly type: string;
  readonly kind: 'execute' | 'revert';
  readonly runId: string;
  readonly atom: string;
  /** The atom's idempotency key (`:revert` appended for a revert), given to the worker. */
  readonly idempotencyKey: string;
  /** The engine's attempt of the atom: a higher one queues a settled task again. */
  readonly round: number;
  readonly inputs: Readonly<Record<string, JsonValue>>;
  /** For a revert: what the execute returned. */
  readonly executeResult?: JsonValue;
}

/** A worker task as stored. */
export interface WorkerTask extends WorkerTaskOffer {
  readonly id: string;
  readonly state: WorkerTaskState;
  /** Deliveries so far: 1 for the first claim, one more for each claim after a lapsed lease. */
  readonly attempt: number;
  /** Fences the worker holding the lease: only its token completes, fails or heartbeats. */
  readonly token: number;
  readonly worker: string | null;
  /** Epoch milliseconds (the store's clock) the lease lasts until. */
  readonly leaseExpiresAt: number | null;
  readonly result?: JsonValue;
  readonly failure?: FailureJson;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What a worker asks for when it claims. */
export interface WorkerClaimRequest {
  readonly types: readonly string[];
  readonly worker: string;
  readonly leaseMs: number;
}

/** How a worker ends a task. */
export type WorkerOutcome = { readonly result: JsonValue } | { readonly failure: FailureJson };

/** What settling a task did: done, refused for a token that is not the holder's, or no task. */
export type SettleResult = 'settled' | 'stale' | 'missing';

/**
 * The queue between engines and external workers, in the run store's database. An engine
 * `offer`s a task for an atom and waits for it to be settled; workers `claim` tasks of their
 * types under a lease, `heartbeat` to keep it, and `settle` with a result or a failure. A
 * lease that lapses lets another worker claim the task (its attempt goes up), and the stale
 * worker's token is refused from then on.
 *
 * `offer` is idempotent per atom and kind: the same offer again (an engine resuming the atom
 * after a crash) gets the task already there, and an offer with a higher `round` (the atom
 * retried) queues a settled task again with the new inputs.
 *
 * @example
 * const task = await queue.offer({ type: 'resize', kind: 'execute', runId, atom: 'resize', idempotencyKey, round: 1, inputs });
 * const claimed = await queue.claim({ types: ['resize'], worker: 'w-1', leaseMs: 30_000 });
 * await queue.settle(claimed.id, claimed.token, { result: { width: 100 } });
 */
export interface WorkerTaskQueue {
  offer(offer: WorkerTaskOffer): Promise<WorkerTask>;
  /** The oldest task of those types that is queued, or whose lease lapsed; undefined when none. */
  claim(request: WorkerClaimRequest): Promise<WorkerTask | undefined>;
  /** Extends the lease of the holder of `token`; undefined when it is not the holder. */
  heartbeat(id: string, token: number, leaseMs: number): Promise<WorkerTask | undefined>;
  settle(id: string, token: number, outcome: WorkerOutcome): Promise<SettleResult>;
  get(id: string): Promise<WorkerTask | undefined>;
  close(): Promise<void>;
}

/** The key that makes offers idempotent: one task per atom, kind and run. */
export function offerKey(offer: Pick<WorkerTaskOffer, 'idempotencyKey' | 'kind'>): string {
  return `${offer.idempotencyKey}:${offer.kind}`;
}

/** A new task row for an offer. */
export function newWorkerTask(offer: WorkerTaskOffer, now: number): WorkerTask {
  return {
    ...offer,
    id: randomUUID(),
    state: 'QUEUED',
    attempt: 0,
    token: 0,
    worker: null,
    leaseExpiresAt: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** A worker task row as SQLite and PostgreSQL return it. */
export interface WorkerTaskRow {
  readonly id: string;
  readonly type: string;
  readonly kind: 'execute' | 'revert';
  readonly run_id: string;
  readonly atom: string;
  readonly idempotency_key: string;
  readonly round: number | string;
  readonly inputs: string;
  readonly execute_result: string | null;
  readonly state: WorkerTaskState;
  readonly attempt: number | string;
  readonly token: number | string;
  readonly worker: string | null;
  readonly lease_expires_at: number | string | null;
  readonly result: string | null;
  readonly failure: string | null;
  readonly created_at: number | string;
  readonly updated_at: number | string;
}

/** The columns of a row, in the order the adapters select them. */
export const WORKER_TASK_COLUMNS =
  'id, type, kind, run_id, atom, idempotency_key, round, inputs, execute_result, state, attempt, token, worker, lease_expires_at, result, failure, created_at, updated_at';

/** A stored row as a {@link WorkerTask}. */
export function fromWorkerRow(row: WorkerTaskRow): WorkerTask {
  return {
    id: row.id,
    type: row.type,
    kind: row.kind,
    runId: row.run_id,
    atom: row.atom,
    idempotencyKey: row.idempotency_key,
    round: Number(row.round),
    inputs: JSON.parse(row.inputs) as Record<string, JsonValue>,
    ...(row.execute_result === null
      ? {}
      : { executeResult: JSON.parse(row.execute_result) as JsonValue }),
    state: row.state,
    attempt: Number(row.attempt),
    token: Number(row.token),
    worker: row.worker,
    leaseExpiresAt: row.lease_expires_at === null ? null : Number(row.lease_expires_at),
    ...(row.result === null ? {} : { result: JSON.parse(row.result) as JsonValue }),
    ...(row.failure === null ? {} : { failure: JSON.parse(row.failure) as FailureJson }),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
