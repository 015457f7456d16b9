import type { Page } from '../../core/page.ts';
import { pageInMemory } from '../../drivers/cursor-paging.ts';
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
import type { ConductorInfo, Job, JobClaim, JobEvent, JobEventType, JobOutcome } from '../model.ts';
import type { JobBoard, JobQuery } from '../ports.ts';

/**
 * The jobs, conductors and listeners of one in-memory board. Boards made from the same state
 * see the same jobs, as processes sharing a database would.
 */
export class MemoryJobBoardState {
  readonly jobs = new Map<string, Job>();
  readonly byKey = new Map<string, string>();
  readonly conductors = new Map<string, ConductorInfo>();
  readonly listeners = new Set<(event: JobEvent) => void>();
}

/**
 * The reference backend: plain maps in this process, no durability. Every operation runs
 * synchronously inside one call, so it is atomic with respect to other callers.
 */
export class MemoryJobBoardBackend implements JobBoardBackend {
  readonly #state: MemoryJobBoardState;

  constructor(state: MemoryJobBoardState = new MemoryJobBoardState()) {
    this.#state = state;
  }

  async post(job: Job): Promise<PostOutcome> {
    const key = job.idempotencyKey;
    const existingId = key === null ? undefined : this.#state.byKey.get(key);
    const existing = existingId === undefined ? undefined : this.#state.jobs.get(existingId);
    if (existing !== undefined) return { kind: 'existing', job: existing };
    // A copy, so the poster changing its store object later cannot change the job.
    const stored = structuredClone(job);
    this.#state.jobs.set(stored.id, stored);
    if (key !== null) this.#state.byKey.set(key, stored.id);
    this.#emit('posted', stored, stored.createdAt);
    return { kind: 'posted', job: stored };
  }

  async get(jobId: string): Promise<Job | undefined> {
    return this.#state.jobs.get(jobId);
  }

  async untilLeaseExpiry(request: { now: number }): Promise<number | undefined> {
    let earliest: number | undefined;
    for (const job of this.#state.jobs.values()) {
      if (job.state !== 'CLAIMED' || job.leaseExpiresAt == null) continue;
      if (earliest === undefined || job.leaseExpiresAt < earliest) earliest = job.leaseExpiresAt;
    }
    return earliest === undefined ? undefined : Math.max(0, earliest - request.now);
  }

  async claim(request: { owner: string; ttlMs: number; now: number }): Promise<Job | undefined> {
    let best: Job | undefined;
    for (const job of this.#state.jobs.values()) {
      const claimable =
        job.state === 'UNCLAIMED' ||
        (job.state === 'CLAIMED' && (job.leaseExpiresAt ?? 0) <= request.now);
      if (claimable && (best === undefined || claimsBefore(job, best))) best = job;
    }
    if (best === undefined) return undefined;
    const claimed: Job = {
      ...best,
      state: 'CLAIMED',
      owner: request.owner,
      token: best.token + 1,
      leaseExpiresAt: request.now + request.ttlMs,
      attempts: best.attempts + (best.state === 'CLAIMED' ? 1 : 0),
      updatedAt: request.now,
    };
    this.#state.jobs.set(claimed.id, claimed);
    this.#emit('claimed', claimed, request.now);
    return claimed;
  }

  async extend(request: {
    claim: JobClaim;
    ttlMs: number;
    now: number;
  }): Promise<ClaimWriteOutcome> {
    return this.#write(request.claim, (job) => ({
      ...job,
      leaseExpiresAt: request.now + request.ttlMs,
      updatedAt: request.now,
    }));
  }

  async consume(request: {
    claim: JobClaim;
    outcome: JobOutcome;
    now: number;
  }): Promise<ClaimWriteOutcome> {
    const result = this.#write(request.claim, (job) => ({
      ...job,
      state: 'COMPLETE',
      leaseExpiresAt: null,
      outcome: structuredClone(request.outcome),
      request: null,
      updatedAt: request.now,
    }));
    if (result.kind === 'written') this.#emit('completed', result.job, request.now);
    return result;
  }

  async abandon(request: {
    claim: JobClaim;
    reason: string;
    maxAttempts: number | undefined;
    countAttempt: boolean;
    now: number;
  }): Promise<ClaimWriteOutcome> {
    const result = this.#write(request.claim, (job) => {
      const attempts = job.attempts + (request.countAttempt ? 1 : 0);
      const dead = request.maxAttempts !== undefined && attempts >= request.maxAttempts;
      return {
        ...job,
        state: dead ? 'DEAD_LETTER' : 'UNCLAIMED',
        leaseExpiresAt: null,
        attempts,
        deadLetterReason: dead ? request.reason : null,
        updatedAt: request.now,
      };
    });
    if (result.kind === 'written') this.#emit('abandoned', result.job, request.now);
    return result;
  }

  async trash(request: { jobId: string; now: number }): Promise<TrashOutcome> {
    const job = this.#state.jobs.get(request.jobId);
    if (job === undefined) return { kind: 'no-job' };
    if (job.state === 'CLAIMED' && (job.leaseExpiresAt ?? 0) > request.now)
      return { kind: 'claimed', job };
    this.#state.jobs.delete(job.id);
    if (job.idempotencyKey !== null) this.#state.byKey.delete(job.idempotencyKey);
    this.#emit('trashed', job, request.now);
    return { kind: 'trashed' };
  }

  async deleteFinished(request: {
    jobId: string;
    states: readonly ('COMPLETE' | 'DEAD_LETTER')[];
    before: number;
    now: number;
  }): Promise<boolean> {
    const job = this.#state.jobs.get(request.jobId);
    if (job === undefined || job.updatedAt >= request.before) return false;
    if (!request.states.some((state) => state === job.state)) return false;
    this.#state.jobs.delete(job.id);
    if (job.idempotencyKey !== null) this.#state.byKey.delete(job.idempotencyKey);
    this.#emit('trashed', job, request.now);
    return true;
  }

  async redrive(request: { jobId: string; now: number }): Promise<RedriveOutcome> {
    const job = this.#state.jobs.get(request.jobId);
    if (job === undefined) return { kind: 'no-job' };
    if (job.state !== 'DEAD_LETTER') return { kind: 'not-dead', job };
    const redriven: Job = {
      ...job,
      state: 'UNCLAIMED',
      leaseExpiresAt: null,
      attempts: 0,
      deadLetterReason: null,
      updatedAt: request.now,
    };
    this.#state.jobs.set(job.id, redriven);
    this.#emit('abandoned', redriven, request.now);
    return { kind: 'redriven', job: redriven };
  }

  async request(write: RequestWrite): Promise<RequestOutcome> {
    const job = this.#state.jobs.get(write.jobId);
    if (job === undefined) return { kind: 'no-job' };
    if (job.request !== null || !write.states.includes(job.state)) return { kind: 'refused', job };
    const reopen = job.state === 'COMPLETE';
    const requested: Job = {
      ...job,
      request: structuredClone(write.request),
      updatedAt: write.now,
      ...(reopen ? { state: 'UNCLAIMED', attempts: 0, outcome: null } : {}),
    };
    this.#state.jobs.set(job.id, requested);
    this.#emit('requested', requested, write.now);
    return { kind: 'requested', job: requested };
  }

  async list(query: JobQuery & { readonly limit: number }): Promise<Page<Job>> {
    const after = decodeJobCursor(query.after);
    const matching = [...this.#state.jobs.values()].filter(
      (job) =>
        (query.states === undefined || query.states.includes(job.state)) &&
        (query.name === undefined || job.name === query.name) &&
        (query.owner === undefined || job.owner === query.owner),
    );
    return pageInMemory(matching, after, query.limit);
  }

  async heartbeatConductor(heartbeat: ConductorHeartbeat): Promise<void> {
    this.#state.conductors.set(heartbeat.name, {
      name: heartbeat.name,
      lastSeenAt: heartbeat.now,
      expiresAt: heartbeat.now + heartbeat.ttlMs,
      meta: structuredClone(heartbeat.meta),
    });
  }

  async unregisterConductor(name: string): Promise<void> {
    this.#state.conductors.delete(name);
  }

  async listConductors(now: number): Promise<ConductorInfo[]> {
    return [...this.#state.conductors.values()]
      .filter((conductor) => conductor.expiresAt > now)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async subscribe(listener: (event: JobEvent) => void): Promise<() => void> {
    // Wrapped, so subscribing the same function twice gives two independent subscriptions.
    const wrapped = (event: JobEvent): void => listener(event);
    this.#state.listeners.add(wrapped);
    return () => this.#state.listeners.delete(wrapped);
  }

  async close(): Promise<void> {}

  #write(claim: JobClaim, change: (job: Job) => Job): ClaimWriteOutcome {
    const job = this.#state.jobs.get(claim.jobId);
    if (job === undefined) return { kind: 'no-job' };
    if (job.state !== 'CLAIMED' || job.token !== claim.token || job.owner !== claim.owner)
      return { kind: 'fenced', job };
    const next = change(job);
    this.#state.jobs.set(next.id, next);
    return { kind: 'written', job: next };
  }

  #emit(type: JobEventType, job: Job, at: number): void {
    const event: JobEvent = { type, jobId: job.id, jobName: job.name, state: job.state, at };
    // Delivered later, as a database notification would be, never inside the writer's call.
    for (const listener of this.#state.listeners) queueMicrotask(() => listener(event));
  }
}

/** Claim order: higher priority first, then older, then smaller id. */
function claimsBefore(a: Job, b: Job): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt;
  return a.id < b.id;
}

/** Options of {@link createMemoryJobBoard}. */
export interface MemoryJobBoardOptions extends JobBoardOptions {
  /** Share one state between boards to model several processes on one board. */
  readonly state?: MemoryJobBoardState;
}

/**
 * A jobboard in this process's memory, for tests and for users who want no durability.
 *
 * @example
 * const board = createMemoryJobBoard();
 * await board.post({ name: 'report', flow: { name: 'report', version: '1' } });
 */
export function createMemoryJobBoard(options: MemoryJobBoardOptions = {}): JobBoard {
  return guardJobBoard(new MemoryJobBoardBackend(options.state), options);
}
