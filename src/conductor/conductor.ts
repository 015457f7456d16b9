import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../core/clock.ts';
import type { EngineOptions } from '../engine/engine.ts';
import type { FlowRegistry } from '../engine/flow-registry.ts';
import { SentAt } from '../engine/lease-keeper.ts';
import type { Job, JobClaim } from '../jobs/model.ts';
import type { JobClaimer, JobEvents } from '../jobs/ports.ts';
import type { RunJournal } from '../persistence/ports.ts';
import { ClaimedJob, type ConductorEvent, type JobContext } from './claimed-job.ts';

export type { ConductorEvent } from './claimed-job.ts';

/**
 * Options of a {@link Conductor}.
 *
 * @example
 * const options: ConductorOptions = { board, runs, registry, concurrency: 4, leaseTtlMs: 10_000 };
 */
export interface ConductorOptions {
  /** Unique among live conductors; it owns claims and leases. A random name by default. */
  readonly name?: string;
  /**
   * Where jobs are claimed. A board that also offers `subscribe` (every board does) lets an
   * operator's request reach a running job at once; otherwise it arrives with the next
   * heartbeat, within a third of the lease.
   */
  readonly board: JobClaimer & Partial<Pick<JobEvents, 'subscribe'>>;
  readonly runs: RunJournal;
  readonly registry: FlowRegistry;
  /** Jobs run at the same time. Default 1. */
  readonly concurrency?: number;
  /**
   * Lease of each claim, which is also the lease of the job's run; heartbeats go out every
   * third of it, and atom code starts only while at least a third of it is certainly left.
   * Default 30 s.
   */
  readonly leaseTtlMs?: number;
  /** Attempts that failed through the job's own fault before it is dead-lettered. Default 5. */
  readonly maxAttempts?: number;
  /** How long one claim call waits for work before checking for a stop. Default 1 s. */
  readonly claimWaitMs?: number;
  /** Longest pause after the store or board was unavailable. Default 5 s. */
  readonly maxBackoffMs?: number;
  /** Options for each job's engine (its own concurrency, listeners, ...). */
  readonly engine?: Omit<EngineOptions, 'persistence' | 'store' | 'runId' | 'clock'>;
  readonly clock?: Clock;
  /** Source of backoff jitter; `Math.random` by default. */
  readonly random?: () => number;
  readonly onEvent?: (event: ConductorEvent) => void;
}

/**
 * Claims jobs from a board and runs their flows durably, one engine per job, under the job's
 * claim: the claim's token fences the run's writes and its heartbeat is the job's only one.
 * SUCCESS and REVERTED consume the job; a failure of the job's own abandons it for another
 * attempt, up to `maxAttempts`, then dead-letters it; an unavailable store or board gives the
 * job back without counting an attempt and makes the conductor back off. A job taken over from
 * a dead conductor continues where its run stopped.
 *
 * @example
 * const conductor = new Conductor({ board, runs, registry, concurrency: 4 });
 * await conductor.run({ stopOnSignals: true }); // SIGTERM suspends the engines and gives their jobs back
 */
export class Conductor {
  readonly name: string;
  readonly #options: ConductorOptions;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #active = new Map<string, { job: ClaimedJob; done: Promise<void> }>();
  readonly #stopping = new AbortController();
  readonly #context: JobContext;
  #wakeSlot: (() => void) | undefined;
  /** Consecutive times the store or board was unavailable; 0 when the last call went through. */
  #unavailable = 0;

  constructor(options: ConductorOptions) {
    this.name = options.name ?? `conductor-${randomUUID()}`;
    this.#options = options;
    this.#ttlMs = options.leaseTtlMs ?? 30_000;
    this.#clock = options.clock ?? systemClock;
    this.#context = {
      name: this.name,
      board: options.board,
      runs: options.runs,
      registry: options.registry,
      clock: this.#clock,
      ttlMs: this.#ttlMs,
      maxAttempts: options.maxAttempts ?? 5,
      engine: options.engine,
      emit: (event) => this.#emit(event),
      stopping: () => this.#stopping.signal.aborted,
      onUnavailable: () => {
        this.#unavailable++;
      },
    };
  }

  /** Jobs running now, by id. */
  get activeJobs(): string[] {
    return [...this.#active.keys()];
  }

  /**
   * Claims and runs jobs until {@link Conductor.stop} is called, the signal aborts, or (with
   * `stopOnSignals`) the process gets SIGTERM or SIGINT; resolves once every engine has stopped.
   */
  async run(
    options: { readonly signal?: AbortSignal; readonly stopOnSignals?: boolean } = {},
  ): Promise<void> {
    const stop = (): void => void this.stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    if (options.stopOnSignals) {
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    }
    const registration = setInterval(() => void this.#register(), Math.max(10, this.#ttlMs / 3));
    registration.unref();
    await this.#register();
    const unsubscribe = await this.#hearRequests();
    try {
      while (!this.#stopping.signal.aborted) {
        if (this.#active.size >= (this.#options.concurrency ?? 1)) {
          await new Promise<void>((resolve) => {
            this.#wakeSlot = resolve;
          });
          continue;
        }
        if (this.#unavailable > 0) await this.#backOff();
        await this.#claimOne();
      }
      await Promise.all([...this.#active.values()].map((entry) => entry.done));
    } finally {
      unsubscribe();
      clearInterval(registration);
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      await this.#options.board.unregisterConductor(this.name).catch(() => undefined);
      this.#emit({ type: 'stopped' });
    }
  }

  /**
   * Stops claiming, suspends every running engine (atoms in flight finish) and gives their jobs
   * back so another conductor continues them at once, without waiting for a lease to expire.
   */
  async stop(): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    this.#stopping.abort();
    this.#wakeSlot?.();
    for (const entry of this.#active.values()) entry.job.suspend();
    await Promise.all([...this.#active.values()].map((entry) => entry.done));
  }

  /** Listens for operator requests left on jobs this conductor runs. */
  async #hearRequests(): Promise<() => void> {
    const { board } = this.#options;
    if (board.subscribe === undefined) return () => {};
    try {
      return await board.subscribe((event) => {
        if (event.type === 'requested') this.#active.get(event.jobId)?.job.requested();
      });
    } catch (error) {
      // Requests still arrive with each heartbeat.
      this.#emit({ type: 'error', error });
      return () => {};
    }
  }

  async #claimOne(): Promise<void> {
    const sent = new SentAt(this.#clock);
    let claimed: Awaited<ReturnType<JobClaimer['claim']>>;
    try {
      claimed = await this.#options.board.claim({
        owner: this.name,
        ttlMs: this.#ttlMs,
        waitMs: this.#options.claimWaitMs ?? 1_000,
        signal: this.#stopping.signal,
      });
    } catch (error) {
      this.#emit({ type: 'error', error });
      this.#unavailable++;
      return;
    }
    this.#unavailable = 0;
    if (claimed) this.#start(claimed.job, claimed.claim, sent);
  }

  /** Waits before the next claim after the store or board was unavailable: capped, jittered. */
  async #backOff(): Promise<void> {
    const cap = this.#options.maxBackoffMs ?? 5_000;
    const base = Math.min(cap, 100 * 2 ** Math.min(this.#unavailable - 1, 16));
    const delay = base / 2 + (base / 2) * (this.#options.random ?? Math.random)();
    await this.#clock.sleep(delay, this.#stopping.signal).catch(() => undefined);
  }

  #start(job: Job, claim: JobClaim, sent: SentAt): void {
    this.#emit({ type: 'claimed', job, token: claim.token });
    const work = new ClaimedJob(this.#context, job, claim, sent);
    // The board granted this job again while an older claim of ours still runs it (that claim
    // expired, say while this process was paused): the older one is superseded and stops; the
    // new one starts once it has, so one process never runs one job twice at once.
    const previous = this.#active.get(job.id);
    previous?.job.suspend();
    const entry = {
      job: work,
      done: (previous?.done ?? Promise.resolve())
        .then(() => work.run())
        .catch((error: unknown) => this.#emit({ type: 'error', error }))
        .finally(() => {
          if (this.#active.get(job.id) === entry) this.#active.delete(job.id);
          const wake = this.#wakeSlot;
          this.#wakeSlot = undefined;
          wake?.();
        }),
    };
    this.#active.set(job.id, entry);
  }

  async #register(): Promise<void> {
    try {
      await this.#options.board.heartbeatConductor({
        name: this.name,
        ttlMs: this.#ttlMs,
        meta: { concurrency: this.#options.concurrency ?? 1, jobs: this.activeJobs },
      });
    } catch (error) {
      this.#emit({ type: 'error', error });
    }
  }

  #emit(event: ConductorEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch {
      // A listener's bug must not stop the conductor.
    }
  }
}
