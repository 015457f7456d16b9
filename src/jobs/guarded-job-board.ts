import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../core/failure.ts';
import type { OperatorRequest } from '../core/operator-request.ts';
import type { Page } from '../core/page.ts';
import type { ClaimWriteOutcome, JobBoardBackend } from './job-board-backend.ts';
import { JobBoardError } from './job-board-error.ts';
import {
  claimFenced,
  jobClaimed,
  jobNotFound,
  requestRefused,
  waitTimeout,
} from './job-refusals.ts';
import { checkPruneQuery, jobNotDead, pruneJobs } from './job-retention.ts';
import {
  checkClaim,
  checkJson,
  checkMaxAttempts,
  checkOutcome,
  checkQuery,
  checkSpec,
  checkTtl,
  requireText,
} from './job-validation.ts';
import {
  type ClaimedJob,
  type ConductorInfo,
  isTerminal,
  type Job,
  type JobClaim,
  type JobEvent,
  type JobOutcome,
  type JobSpec,
  type JobState,
} from './model.ts';
import type {
  AbandonOptions,
  ClaimOptions,
  JobBoard,
  JobPruneQuery,
  JobQuery,
  SubscribeOptions,
  WaitOptions,
} from './ports.ts';
import { WakeUp } from './wake-up.ts';

/** How many renewals a claim that came back late gets to come back in time. */
const LATE_CLAIM_RENEWALS = 3;

/** Options of {@link guardJobBoard}, accepted by every `open...JobBoard` function too. */
export interface JobBoardOptions {
  /**
   * Epoch milliseconds for timestamps and lease expiry; tests pass a fake clock. Default
   * `Date.now`. Boards on a server (PostgreSQL, Redis) use it only for a post's `createdAt`:
   * their lease times are the server's clock.
   */
  readonly now?: () => number;
  /** Makes job ids. Default `crypto.randomUUID`. */
  readonly newId?: () => string;
  /**
   * While waiting (`wait`, `claim` with `waitMs`), re-read the board at least this often even
   * without a notification: leases expire without one, and a dropped connection can lose one.
   * Default 1000.
   */
  readonly recheckMs?: number;
}

/**
 * Wraps a backend with what every backend shares: argument and JSON checks, timestamps and
 * ids, refusals turned into {@link JobBoardError}s with the same codes and messages, waiting
 * (`wait`, blocking `claim`) built on the backend's notifications, and idempotent close.
 *
 * @example
 * const board = guardJobBoard(new MemoryJobBoardBackend(), { now: clock.now });
 * const job = await board.post({ name: 'resize', flow: { name: 'resize', version: '1' } });
 * const claimed = await board.claim({ owner: 'conductor-1', ttlMs: 30_000 });
 */
export function guardJobBoard(backend: JobBoardBackend, options: JobBoardOptions = {}): JobBoard {
  return new GuardedJobBoard(backend, options);
}

class GuardedJobBoard implements JobBoard {
  readonly #backend: JobBoardBackend;
  readonly #now: () => number;
  readonly #newId: () => string;
  readonly #recheckMs: number;
  #closed = false;

  constructor(backend: JobBoardBackend, options: JobBoardOptions) {
    this.#backend = backend;
    this.#now = options.now ?? Date.now;
    this.#newId = options.newId ?? randomUUID;
    this.#recheckMs = options.recheckMs ?? 1000;
  }

  async post(spec: JobSpec): Promise<Job> {
    this.#open();
    checkSpec(spec);
    if (spec.id !== undefined) {
      const taken = await this.#backend.get(spec.id);
      if (taken !== undefined && taken.idempotencyKey !== spec.idempotencyKey) {
        throw new JobBoardError(
          'IDEMPOTENCY_CONFLICT',
          `Job id "${spec.id}" is taken by job "${taken.name}", posted with another idempotency key; choose another id, or repeat that job's key to get it back.`,
          { jobId: spec.id },
        );
      }
    }
    const now = this.#now();
    const job: Job = {
      id: spec.id ?? this.#newId(),
      name: spec.name,
      flow: { name: spec.flow.name, version: spec.flow.version },
      store: spec.store ?? {},
      priority: spec.priority ?? 0,
      idempotencyKey: spec.idempotencyKey ?? null,
      createdAt: now,
      updatedAt: now,
      state: 'UNCLAIMED',
      owner: null,
      leaseExpiresAt: null,
      token: 0,
      attempts: 0,
      outcome: null,
      deadLetterReason: null,
      request: null,
    };
    const outcome = await this.#backend.post(job);
    if (outcome.kind === 'existing') refuseConflict(job, outcome.job, spec.id !== undefined);
    return outcome.job;
  }

  async get(jobId: string): Promise<Job | undefined> {
    this.#open();
    requireText(jobId, 'job id');
    return this.#backend.get(jobId);
  }

  async wait(jobId: string, options: WaitOptions = {}): Promise<Job> {
    this.#open();
    requireText(jobId, 'job id');
    if (options.timeoutMs !== undefined) checkTtl(options.timeoutMs, 'Wait timeoutMs');
    // Timeouts are real durations, measured on the monotonic clock, not on the board's `now`.
    const started = performance.now();
    // Subscribed before the first read, so a completion between the two is not missed.
    const wake = await WakeUp.open(this.#subscribeRaw, (event) => event.jobId === jobId);
    try {
      for (;;) {
        options.signal?.throwIfAborted();
        const job = await this.#backend.get(jobId);
        if (job === undefined) throw jobNotFound(jobId, 'wait for the job');
        if (isTerminal(job.state)) return job;
        const left =
          (options.timeoutMs ?? Number.POSITIVE_INFINITY) - (performance.now() - started);
        if (left <= 0) throw waitTimeout(job, options.timeoutMs ?? 0);
        await wake.next(Math.min(left, this.#recheckMs), options.signal);
      }
    } finally {
      wake.close();
    }
  }

  async claim(options: ClaimOptions): Promise<ClaimedJob | undefined> {
    this.#open();
    requireText(options.owner, 'claim owner');
    checkTtl(options.ttlMs, 'Claim ttlMs');
    const waitMs = options.waitMs ?? 0;
    if (!Number.isFinite(waitMs) || waitMs < 0) {
      throw new JobBoardError(
        'INVALID_ARGUMENT',
        `Claim waitMs ${String(waitMs)} is invalid; pass 0 or more milliseconds.`,
      );
    }
    const attempt = async (): Promise<ClaimedJob | undefined> => {
      const sent = performance.now();
      const job = await this.#backend.claim({
        owner: options.owner,
        ttlMs: options.ttlMs,
        now: this.#now(),
      });
      if (job === undefined) return undefined;
      if (performance.now() - sent < options.ttlMs) return { job, claim: claimOf(job) };
      return this.#confirmLateClaim(claimOf(job), options.ttlMs);
    };
    if (waitMs === 0 || options.signal?.aborted) return attempt();
    const started = performance.now();
    const wake = await WakeUp.open(
      this.#subscribeRaw,
      (event) =>
        event.type === 'posted' ||
        ((event.type === 'abandoned' || event.type === 'requested') && event.state === 'UNCLAIMED'),
    );
    try {
      for (;;) {
        const claimed = await attempt();
        if (claimed !== undefined) return claimed;
        const left = waitMs - (performance.now() - started);
        if (left <= 0) return undefined;
        // A claim that expires before the next recheck is taken over when it expires.
        const expiry = await this.#backend.untilLeaseExpiry({ now: this.#now() });
        const sleep = Math.min(left, this.#recheckMs, (expiry ?? Number.POSITIVE_INFINITY) + 1);
        const reason = await wake.next(sleep, options.signal);
        if (reason === 'aborted' || this.#closed) return undefined;
      }
    } finally {
      wake.close();
    }
  }

  /**
   * A claim whose reply took a whole TTL may have expired before it arrived (the server can
   * stall after granting it), so another claimer may already hold the job. It is renewed,
   * and returned only when a renewal comes back within the TTL it asked for; a fenced or
   * repeatedly late renewal means no claim.
   */
  async #confirmLateClaim(claim: JobClaim, ttlMs: number): Promise<ClaimedJob | undefined> {
    let current = claim;
    for (let renewals = 0; renewals < LATE_CLAIM_RENEWALS; renewals += 1) {
      const sent = performance.now();
      const outcome = await this.#backend.extend({ claim: current, ttlMs, now: this.#now() });
      if (outcome.kind !== 'written') return undefined;
      current = claimOf(outcome.job);
      if (performance.now() - sent < ttlMs) return { job: outcome.job, claim: current };
    }
    return undefined;
  }

  async extend(claim: JobClaim, ttlMs: number): Promise<JobClaim> {
    this.#open();
    checkClaim(claim, 'extend a claim');
    checkTtl(ttlMs, 'Lease ttlMs');
    const outcome = await this.#backend.extend({ claim, ttlMs, now: this.#now() });
    return claimOf(explain(outcome, claim, `extend the claim on job "${claim.jobId}"`));
  }

  async consume(claim: JobClaim, outcome: JobOutcome): Promise<Job> {
    this.#open();
    checkClaim(claim, 'consume a job');
    checkOutcome(outcome, claim.jobId);
    const result = await this.#backend.consume({ claim, outcome, now: this.#now() });
    return explain(result, claim, `consume job "${claim.jobId}"`);
  }

  async abandon(claim: JobClaim, options: AbandonOptions): Promise<Job> {
    this.#open();
    checkClaim(claim, 'abandon a job');
    if (typeof options?.reason !== 'string') {
      throw new JobBoardError(
        'INVALID_ARGUMENT',
        `Abandoning job "${claim.jobId}" needs a reason string, e.g. { reason: error.message }.`,
        { jobId: claim.jobId },
      );
    }
    checkMaxAttempts(options.maxAttempts);
    const result = await this.#backend.abandon({
      claim,
      reason: options.reason,
      maxAttempts: options.maxAttempts,
      countAttempt: options.countAttempt ?? true,
      now: this.#now(),
    });
    return explain(result, claim, `abandon job "${claim.jobId}"`);
  }

  async heartbeatConductor(conductor: {
    readonly name: string;
    readonly ttlMs: number;
    readonly meta?: { readonly [key: string]: JsonValue };
  }): Promise<void> {
    this.#open();
    requireText(conductor.name, 'conductor name');
    checkTtl(conductor.ttlMs, 'Conductor ttlMs');
    const meta = conductor.meta ?? {};
    checkJson(meta, 'meta', `conductor "${conductor.name}"`, undefined);
    await this.#backend.heartbeatConductor({
      name: conductor.name,
      ttlMs: conductor.ttlMs,
      meta,
      now: this.#now(),
    });
  }

  async unregisterConductor(name: string): Promise<void> {
    this.#open();
    requireText(name, 'conductor name');
    await this.#backend.unregisterConductor(name);
  }

  async list(query: JobQuery = {}): Promise<Page<Job>> {
    this.#open();
    const limit = checkQuery(query);
    return this.#backend.list({ ...query, limit });
  }

  async listConductors(): Promise<ConductorInfo[]> {
    this.#open();
    return this.#backend.listConductors(this.#now());
  }

  async trash(jobId: string): Promise<void> {
    this.#open();
    requireText(jobId, 'job id');
    const outcome = await this.#backend.trash({ jobId, now: this.#now() });
    switch (outcome.kind) {
      case 'trashed':
        return;
      case 'no-job':
        throw jobNotFound(jobId, 'trash the job');
      case 'claimed':
        throw jobClaimed(outcome.job);
    }
  }

  async request(
    jobId: string,
    request: OperatorRequest,
    states: readonly JobState[],
  ): Promise<Job> {
    this.#open();
    requireText(jobId, 'job id');
    checkJson(request as unknown as JsonValue, 'request', `job "${jobId}"`, jobId);
    const outcome = await this.#backend.request({ jobId, request, states, now: this.#now() });
    switch (outcome.kind) {
      case 'requested':
        return outcome.job;
      case 'no-job':
        throw jobNotFound(jobId, `ask "${request.action}" of the job`);
      case 'refused':
        throw requestRefused(outcome.job, request, states);
    }
  }

  async subscribe(
    listener: (event: JobEvent) => void,
    options: SubscribeOptions = {},
  ): Promise<() => void> {
    this.#open();
    if (options.signal?.aborted) return () => {};
    const unsubscribe = await this.#subscribeRaw((event) => {
      try {
        listener(event);
      } catch {
        // A listener's bug must not break delivery to the others, nor the backend's loop.
      }
    });
    const onAbort = (): void => unsubscribe();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    return () => {
      options.signal?.removeEventListener('abort', onAbort);
      unsubscribe();
    };
  }

  async redrive(jobId: string): Promise<Job> {
    this.#open();
    requireText(jobId, 'job id');
    const outcome = await this.#backend.redrive({ jobId, now: this.#now() });
    switch (outcome.kind) {
      case 'redriven':
        return outcome.job;
      case 'no-job':
        throw jobNotFound(jobId, 'redrive the job');
      case 'not-dead':
        throw jobNotDead(outcome.job);
    }
  }

  async prune(query: JobPruneQuery): Promise<{ deleted: string[]; more: boolean }> {
    this.#open();
    return pruneJobs(this.#backend, checkPruneQuery(query, this.#now()), this.#now);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#backend.close();
  }

  readonly #subscribeRaw = (listener: (event: JobEvent) => void): Promise<() => void> =>
    this.#backend.subscribe(listener);

  #open(): void {
    if (this.#closed) {
      throw new JobBoardError(
        'BOARD_CLOSED',
        'This jobboard was closed; open a new one with openJobBoard(url) to keep using it.',
      );
    }
  }
}

function claimOf(job: Job): JobClaim {
  return {
    jobId: job.id,
    owner: job.owner ?? '',
    token: job.token,
    expiresAt: job.leaseExpiresAt ?? 0,
    ...(job.request === null ? {} : { request: job.request }),
  };
}

function explain(outcome: ClaimWriteOutcome, claim: JobClaim, action: string): Job {
  switch (outcome.kind) {
    case 'written':
      return outcome.job;
    case 'no-job':
      throw jobNotFound(claim.jobId, action);
    case 'fenced':
      throw claimFenced(claim, outcome.job, action);
  }
}

/**
 * A retried post (same key, same spec) returns the job already posted; the same key with a
 * different spec is a mistake that returning the first job would hide, so it is refused.
 */
function refuseConflict(posted: Job, existing: Job, idChosen: boolean): void {
  const differing: string[] = [];
  if (idChosen && posted.id !== existing.id) differing.push('id');
  if (posted.name !== existing.name) differing.push('name');
  if (posted.flow.name !== existing.flow.name) differing.push('flow.name');
  if (posted.flow.version !== existing.flow.version) differing.push('flow.version');
  if (!sameJson(posted.store, existing.store)) differing.push('store');
  if (posted.priority !== existing.priority) differing.push('priority');
  if (differing.length === 0) return;
  throw new JobBoardError(
    'IDEMPOTENCY_CONFLICT',
    `Idempotency key "${posted.idempotencyKey}" was already used for job "${existing.id}" ("${existing.name}") with a different ${differing.join(', ')}; post with a new key, or repeat the first spec exactly to get that job back.`,
    { jobId: existing.id },
  );
}

/** Equal as JSON values, whatever the order of object keys (PostgreSQL's jsonb reorders them). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameJson(item, b[i]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every(
    (key) =>
      Object.hasOwn(b, key) &&
      sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}
