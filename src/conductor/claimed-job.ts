import type { Clock } from '../core/clock.ts';
import { isRetryable, TaskFlowError } from '../core/errors.ts';
import { Failure } from '../core/failure.ts';
import type { OperatorRequest } from '../core/operator-request.ts';
import type { Engine, EngineOptions } from '../engine/engine.ts';
import type { FlowRegistry } from '../engine/flow-registry.ts';
import type { SentAt } from '../engine/lease-keeper.ts';
import { continueRun } from '../engine/runs.ts';
import {
  type Job,
  type JobClaim,
  type JobOutcome,
  MAX_OUTCOME_OUTPUTS_BYTES,
} from '../jobs/model.ts';
import type { JobClaimer } from '../jobs/ports.ts';
import type { RunJournal } from '../persistence/ports.ts';
import { isStorageError } from '../persistence/storage-error.ts';
import { ClaimLease } from './claim-lease.ts';

/** What a conductor reports about its work. */
export type ConductorEvent =
  | { readonly type: 'claimed'; readonly job: Job; readonly token: number }
  | { readonly type: 'completed'; readonly job: Job; readonly outcome: JobOutcome }
  | { readonly type: 'abandoned'; readonly job: Job; readonly reason: string }
  | { readonly type: 'lost'; readonly jobId: string; readonly error: unknown }
  | { readonly type: 'error'; readonly error: unknown }
  | { readonly type: 'stopped' };

/** What one claimed job needs from its conductor. */
export interface JobContext {
  readonly name: string;
  readonly board: JobClaimer;
  readonly runs: RunJournal;
  readonly registry: FlowRegistry;
  readonly clock: Clock;
  readonly ttlMs: number;
  readonly maxAttempts: number;
  readonly engine: Omit<EngineOptions, 'persistence' | 'store' | 'runId' | 'clock'> | undefined;
  readonly emit: (event: ConductorEvent) => void;
  /** True once the conductor is stopping: the job is then suspended and given back. */
  readonly stopping: () => boolean;
  /** Called when the job failed for want of a store or board: the conductor backs off. */
  readonly onUnavailable: () => void;
}

/** Codes of errors in the job's own definition that no retry can fix: dead-letter at once. */
const DEFINITION_ERRORS = new Set([
  'UNKNOWN_FACTORY',
  'VERSION_MISMATCH',
  'DEFINITION_MISMATCH',
  'VALIDATION_FAILED',
  'NO_FACTORY',
]);

type Outcome = JobOutcome | 'suspended';

/**
 * One claimed job's life: run its flow under the claim, then consume the job with the run's
 * outcome, or give it back. The claim is the one lease of the job and its run: its token
 * fences every run write, its heartbeat is the only one, and before any atom code starts the
 * engine checks that it is still certainly held.
 */
export class ClaimedJob {
  readonly job: Job;
  readonly #ctx: JobContext;
  readonly #lease: ClaimLease;
  #engine: Engine | undefined;
  /** Ids of the operator requests handed to the engine, so a request is applied once. */
  readonly #requests = new Set<string>();
  /** An operator asked to suspend: the job completes SUSPENDED instead of being given back. */
  #suspendAsked = false;

  constructor(ctx: JobContext, job: Job, claim: JobClaim, sent: SentAt) {
    this.job = job;
    this.#ctx = ctx;
    this.#lease = new ClaimLease({
      board: ctx.board,
      clock: ctx.clock,
      ttlMs: ctx.ttlMs,
      claim,
      sent,
      onLost: (error) => {
        this.#engine?.suspend();
        ctx.emit({ type: 'lost', jobId: job.id, error });
      },
      onRequest: (request) => this.#apply(request),
    });
  }

  get token(): number {
    return this.#lease.token;
  }

  /** Stops starting atoms; the job is given back once running atoms finish. */
  suspend(): void {
    this.#engine?.suspend();
  }

  /** An operator's request was left on the job: renew the claim now, which brings it. */
  requested(): void {
    void this.#lease.renew();
  }

  /** Hands an operator's request to the job's engine, once. */
  #apply(request: OperatorRequest): void {
    const engine = this.#engine;
    if (engine === undefined || this.#requests.has(request.id)) return;
    this.#requests.add(request.id);
    if (request.action === 'suspend') this.#suspendAsked = true;
    try {
      engine.apply(request);
    } catch (error) {
      this.#ctx.emit({ type: 'error', error });
    }
  }

  async run(): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.#outcome();
    } catch (error) {
      this.#lease.stop();
      await this.#onError(error);
      return;
    }
    this.#lease.stop();
    if (this.#lease.lost !== undefined) return;
    if (outcome === 'suspended' && !this.#suspendAsked) {
      await this.#abandon('conductor stopping', { countAttempt: false });
      return;
    }
    if (outcome === 'suspended') outcome = { state: 'SUSPENDED' };
    try {
      const done = await this.#ctx.board.consume(this.#lease.claim, outcome);
      this.#ctx.emit({ type: 'completed', job: done, outcome });
    } catch (error) {
      // Fenced: another owner holds the job now. Unavailable: the claim expires and the next
      // owner finds the run finished and records it.
      this.#ctx.emit({ type: 'lost', jobId: this.job.id, error });
    }
  }

  /**
   * Runs the job's flow under the claim. The engine reads the run only once it holds the run's
   * lease: a run the previous owner finished (it died before consuming the job) is not run
   * again, and its stored outcome becomes the job's (a SUCCESS returns its outputs, a REVERTED
   * or FAILURE run rejects with its recorded failure).
   */
  async #outcome(): Promise<Outcome> {
    if (this.#ctx.stopping() || this.#lease.lost !== undefined) return 'suspended';
    const engine = this.#buildEngine();
    this.#engine = engine;
    try {
      const running = engine.run();
      // Applied once the run is loaded, before any atom starts.
      const pending = this.#lease.claim.request;
      if (pending !== undefined) this.#apply(pending);
      const result = await running;
      return result.state === 'SUCCESS' ? successOutcome(this.job.id, result.outputs) : 'suspended';
    } catch (error) {
      if (engine.state === 'REVERTED' || engine.state === 'FAILURE') {
        return { state: engine.state, failure: Failure.from(error).toJSON() };
      }
      throw error;
    }
  }

  /**
   * Builds the job's flow. The run was created from the job, so the job's flow and store are
   * the run's; a run taken over continues with the store it has stored.
   */
  #buildEngine(): Engine {
    const { runs, registry, clock, ttlMs, name } = this.#ctx;
    return continueRun({
      ...this.#ctx.engine,
      clock,
      registry,
      factory: this.job.flow,
      inputs: this.job.store,
      persistence: {
        runs,
        flowId: this.job.id,
        owner: `${name}/${this.#lease.token}`,
        leaseTtlMs: ttlMs,
        logbook: { id: `job-${this.job.id}`, name: this.job.name },
        claim: this.#lease,
      },
    });
  }

  async #onError(error: unknown): Promise<void> {
    if (this.#lease.lost !== undefined) return;
    if (isStorageError(error, 'FENCED')) {
      // A newer claim took the run over: the job is theirs.
      this.#ctx.emit({ type: 'lost', jobId: this.job.id, error });
      return;
    }
    if (isRetryable(error)) {
      // The store or board is unavailable, or the claim could not be confirmed in time: not
      // the job's fault, so the attempt is not counted, and the conductor backs off.
      this.#ctx.onUnavailable();
      await this.#abandon(describe(error), { countAttempt: false });
      return;
    }
    const definition = error instanceof TaskFlowError && DEFINITION_ERRORS.has(error.code);
    await this.#abandon(describe(error), definition ? { maxAttempts: 1 } : {});
  }

  async #abandon(
    reason: string,
    options: { readonly maxAttempts?: number; readonly countAttempt?: boolean },
  ): Promise<void> {
    try {
      const after = await this.#ctx.board.abandon(this.#lease.claim, {
        reason,
        maxAttempts: options.maxAttempts ?? this.#ctx.maxAttempts,
        countAttempt: options.countAttempt ?? true,
      });
      this.#ctx.emit({ type: 'abandoned', job: after, reason });
    } catch (error) {
      this.#ctx.emit({ type: 'lost', jobId: this.job.id, error });
    }
  }
}

/** A SUCCESS outcome with the run's outputs inline, or a reference when they are too large. */
function successOutcome(runId: string, outputs: Record<string, unknown>): JobOutcome {
  const json = JSON.stringify(outputs);
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_OUTCOME_OUTPUTS_BYTES) return { state: 'SUCCESS', outputsRef: { runId, bytes } };
  return { state: 'SUCCESS', outputs: JSON.parse(json) as NonNullable<JobOutcome['outputs']> };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
