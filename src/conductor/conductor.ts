import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../core/clock.ts';
import { TaskFlowError } from '../core/errors.ts';
import { Failure } from '../core/failure.ts';
import { Engine, type EngineOptions } from '../engine/engine.ts';
import type { FlowRegistry } from '../engine/flow-registry.ts';
import type { Job, JobClaim, JobOutcome } from '../jobs/model.ts';
import type { JobClaimer } from '../jobs/ports.ts';
import type { AtomDetail, FlowDetail } from '../persistence/model.ts';
import type { RunStore } from '../persistence/ports.ts';
import { isStorageError } from '../persistence/storage-error.ts';

/** What a conductor reports about its work. */
export type ConductorEvent =
  | { readonly type: 'claimed'; readonly job: Job; readonly token: number }
  | { readonly type: 'completed'; readonly job: Job; readonly outcome: JobOutcome }
  | { readonly type: 'abandoned'; readonly job: Job; readonly reason: string }
  | { readonly type: 'lost'; readonly jobId: string; readonly error: unknown }
  | { readonly type: 'error'; readonly error: unknown }
  | { readonly type: 'stopped' };

export interface ConductorOptions {
  /** Unique among live conductors; it owns claims and leases. A random name by default. */
  readonly name?: string;
  readonly board: JobClaimer;
  readonly runs: RunStore;
  readonly registry: FlowRegistry;
  /** Jobs run at the same time. Default 1. */
  readonly concurrency?: number;
  /** Lease of claims and runs; heartbeats go out every third of it. Default 30 s. */
  readonly leaseTtlMs?: number;
  /** Attempts (infrastructure failures, takeovers) before a job is dead-lettered. Default 5. */
  readonly maxAttempts?: number;
  /** How long one claim call waits for work before checking for a stop. Default 1 s. */
  readonly claimWaitMs?: number;
  /** Options for each job's engine (its own concurrency, listeners, ...). */
  readonly engine?: Omit<EngineOptions, 'persistence' | 'store' | 'runId' | 'clock'>;
  readonly clock?: Clock;
  readonly onEvent?: (event: ConductorEvent) => void;
}

/** Codes of errors that no retry can fix: the job goes to dead-letter at once. */
const PERMANENT = new Set([
  'UNKNOWN_FACTORY',
  'VERSION_MISMATCH',
  'DEFINITION_MISMATCH',
  'VALIDATION_FAILED',
  'NO_FACTORY',
]);

/**
 * Claims jobs from a board and runs their flows durably, one engine per job, under the job's
 * claim: it heartbeats the claim and the run's lease, records the outcome (SUCCESS and REVERTED
 * consume the job; an infrastructure error abandons it for another attempt, up to
 * `maxAttempts`, then dead-letters it), and continues a job taken over from a dead conductor
 * where its run stopped.
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
  readonly #active = new Map<string, { engine: Engine | undefined; done: Promise<void> }>();
  readonly #stopping = new AbortController();
  #wakeSlot: (() => void) | undefined;

  constructor(options: ConductorOptions) {
    this.name = options.name ?? `conductor-${randomUUID()}`;
    this.#options = options;
    this.#ttlMs = options.leaseTtlMs ?? 30_000;
    this.#clock = options.clock ?? systemClock;
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
    const { board } = this.#options;
    const concurrency = this.#options.concurrency ?? 1;
    const registration = setInterval(() => void this.#register(), Math.max(10, this.#ttlMs / 3));
    registration.unref();
    await this.#register();
    try {
      while (!this.#stopping.signal.aborted) {
        if (this.#active.size >= concurrency) {
          await new Promise<void>((resolve) => {
            this.#wakeSlot = resolve;
          });
          continue;
        }
        let claimed: Awaited<ReturnType<JobClaimer['claim']>>;
        try {
          claimed = await board.claim({
            owner: this.name,
            ttlMs: this.#ttlMs,
            waitMs: this.#options.claimWaitMs ?? 1_000,
            signal: this.#stopping.signal,
          });
        } catch (error) {
          this.#emit({ type: 'error', error });
          await this.#clock.sleep(Math.min(1_000, this.#ttlMs / 3));
          continue;
        }
        if (claimed) this.#start(claimed.job, claimed.claim);
      }
      await Promise.all([...this.#active.values()].map((entry) => entry.done));
    } finally {
      clearInterval(registration);
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      await board.unregisterConductor(this.name).catch(() => undefined);
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
    for (const entry of this.#active.values()) entry.engine?.suspend();
    await Promise.all([...this.#active.values()].map((entry) => entry.done));
  }

  #start(job: Job, claim: JobClaim): void {
    this.#emit({ type: 'claimed', job, token: claim.token });
    const entry: { engine: Engine | undefined; done: Promise<void> } = {
      engine: undefined,
      done: Promise.resolve(),
    };
    this.#active.set(job.id, entry);
    entry.done = this.#work(job, claim, entry)
      .catch((error: unknown) => this.#emit({ type: 'error', error }))
      .finally(() => {
        this.#active.delete(job.id);
        const wake = this.#wakeSlot;
        this.#wakeSlot = undefined;
        wake?.();
      });
  }

  async #work(
    job: Job,
    firstClaim: JobClaim,
    entry: { engine: Engine | undefined },
  ): Promise<void> {
    const { board } = this.#options;
    let claim = firstClaim;
    let lost: unknown;
    // Set once the job is settled here: a renewal still in flight may then fail, harmlessly.
    let settled = false;
    const heartbeat = setInterval(
      () => {
        board.extend(claim, this.#ttlMs).then(
          (renewed) => {
            claim = renewed;
          },
          (error: unknown) => {
            // Someone else holds the job now: stop at once, and leave the job to them.
            if (lost !== undefined || settled) return;
            lost = error;
            entry.engine?.suspend();
            this.#emit({ type: 'lost', jobId: job.id, error });
          },
        );
      },
      Math.max(10, this.#ttlMs / 3),
    );
    heartbeat.unref();
    try {
      const existing = await this.#options.runs.loadRun(job.id);
      let outcome: JobOutcome | 'suspended';
      if (existing?.flow.state === 'REVERTED' || existing?.flow.state === 'FAILURE') {
        // The previous owner finished the run but died before recording it on the board.
        const failure = existing.atoms.find((atom) => atom.revertFailure ?? atom.failure);
        const recorded = failure?.revertFailure ?? failure?.failure;
        outcome = { state: existing.flow.state, ...(recorded ? { failure: recorded } : {}) };
      } else {
        const engine = this.#engineFor(job, claim, existing);
        entry.engine = engine;
        if (this.#stopping.signal.aborted) engine.suspend();
        outcome = await this.#runToOutcome(
          engine,
          () => lost !== undefined || this.#stopping.signal.aborted,
        );
      }
      settled = true;
      clearInterval(heartbeat);
      if (lost !== undefined) return;
      if (outcome === 'suspended') {
        await this.#abandon(claim, job, 'conductor stopping', { countAttempt: false });
        return;
      }
      const done = await board.consume(claim, outcome);
      this.#emit({ type: 'completed', job: done, outcome });
    } catch (error) {
      settled = true;
      clearInterval(heartbeat);
      if (lost !== undefined) return;
      if (isStorageError(error, 'FENCED')) {
        this.#emit({ type: 'lost', jobId: job.id, error });
        return;
      }
      const permanent = error instanceof TaskFlowError && PERMANENT.has(error.code);
      await this.#abandon(claim, job, describe(error), permanent ? { maxAttempts: 1 } : {});
    }
  }

  /** Rebuilds the job's flow: continuing its run when one was persisted (a takeover), else starting it. */
  #engineFor(
    job: Job,
    claim: JobClaim,
    existing: { readonly flow: FlowDetail; readonly atoms: readonly AtomDetail[] } | undefined,
  ): Engine {
    const { runs, registry } = this.#options;
    const factory = existing?.flow.factory ?? job.flow;
    const store = existing?.flow.store ?? job.store;
    return new Engine(registry.build(factory, store), {
      ...this.#options.engine,
      clock: this.#clock,
      store,
      persistence: {
        store: runs,
        flowId: job.id,
        factory,
        owner: `${this.name}/${claim.token}`,
        leaseTtlMs: this.#ttlMs,
        logbook: { id: `job-${job.id}`, name: job.name },
        ...(existing ? { snapshot: existing } : {}),
      },
    });
  }

  /**
   * Runs the engine to an outcome. A previous owner's run lease may outlive its claim by a
   * little; wait for it to expire rather than failing the attempt.
   */
  async #runToOutcome(engine: Engine, stopped: () => boolean): Promise<JobOutcome | 'suspended'> {
    for (;;) {
      try {
        const result = await engine.run();
        return result.state === 'SUCCESS' ? { state: 'SUCCESS' } : 'suspended';
      } catch (error) {
        if (isStorageError(error, 'LEASE_HELD') && !stopped()) {
          await this.#clock.sleep(Math.max(10, this.#ttlMs / 10));
          continue;
        }
        if (isStorageError(error)) throw error;
        if (engine.state === 'REVERTED' || engine.state === 'FAILURE') {
          return { state: engine.state, failure: Failure.from(error).toJSON() };
        }
        throw error;
      }
    }
  }

  async #abandon(
    claim: JobClaim,
    job: Job,
    reason: string,
    options: { readonly maxAttempts?: number; readonly countAttempt?: boolean },
  ): Promise<void> {
    const maxAttempts = options.maxAttempts ?? this.#options.maxAttempts ?? 5;
    try {
      const after = await this.#options.board.abandon(claim, {
        reason,
        maxAttempts,
        countAttempt: options.countAttempt ?? true,
      });
      this.#emit({ type: 'abandoned', job: after, reason });
    } catch (error) {
      this.#emit({ type: 'lost', jobId: job.id, error });
    }
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

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
