import type { Clock } from '../core/clock.ts';
import { isRetryable } from '../core/errors.ts';
import type { OperatorRequest } from '../core/operator-request.ts';
import { type HeldLease, SentAt } from '../engine/lease-keeper.ts';
import type { JobClaim } from '../jobs/model.ts';
import type { JobClaimer } from '../jobs/ports.ts';

/**
 * A job's claim as the one lease of the job and its run: heartbeats every third of the TTL,
 * knows on this process's clock until when the claim is certainly held (the time the request
 * that granted or renewed it was sent, plus the TTL: see lease-keeper.ts for why), and reports
 * once when it is lost (taken over, completed by another owner, or not renewable in time).
 * Each renewal also brings the operator's request pending on the job, if any.
 */
export class ClaimLease implements HeldLease {
  readonly #board: JobClaimer;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #onLost: (error: unknown) => void;
  readonly #onRequest: (request: OperatorRequest) => void;
  #claim: JobClaim;
  #sent: SentAt;
  #heartbeat: NodeJS.Timeout | undefined;
  #renewing: Promise<boolean> | undefined;
  #lost: unknown;
  #stopped = false;

  constructor(options: {
    readonly board: JobClaimer;
    readonly clock: Clock;
    readonly ttlMs: number;
    readonly claim: JobClaim;
    /** When the claim request was sent. */
    readonly sent: SentAt;
    readonly onLost: (error: unknown) => void;
    /** Called with the operator's request pending on the job, at each renewal that carries one. */
    readonly onRequest: (request: OperatorRequest) => void;
  }) {
    this.#board = options.board;
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#claim = options.claim;
    this.#sent = options.sent;
    this.#onLost = options.onLost;
    this.#onRequest = options.onRequest;
    this.#heartbeat = setInterval(
      () => void this.renew(),
      Math.max(10, Math.floor(options.ttlMs / 3)),
    );
    this.#heartbeat.unref();
  }

  get token(): number {
    return this.#claim.token;
  }

  /** The current claim, to consume or abandon the job with. */
  get claim(): JobClaim {
    return this.#claim;
  }

  /** Why the claim was lost, or undefined while it is held. */
  get lost(): unknown {
    return this.#lost;
  }

  validUntil(): number {
    return this.#sent.until(this.#ttlMs);
  }

  remainingMs(): number {
    return this.#sent.remainingMs(this.#ttlMs);
  }

  renew(): Promise<boolean> {
    if (this.#lost !== undefined || this.#stopped) return Promise.resolve(false);
    this.#renewing ??= this.#renewOnce().finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  /** Ends the heartbeat: the job is being settled, so a renewal failing now is harmless. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  async #renewOnce(): Promise<boolean> {
    const sent = new SentAt(this.#clock);
    try {
      const renewed = await this.#board.extend(this.#claim, this.#ttlMs);
      if (this.#stopped) return false;
      this.#claim = renewed;
      this.#sent = sent;
      if (renewed.request !== undefined) this.#onRequest(renewed.request);
      return true;
    } catch (error) {
      if (this.#stopped) return false;
      const retryable = isRetryable(error);
      // The board is briefly unreachable: the claim may still be ours until it expires, and the
      // next heartbeat tries again. Past its certain validity it can no longer be relied on.
      if (retryable && this.remainingMs() > 0) return false;
      this.#lose(error);
      return false;
    }
  }

  #lose(error: unknown): void {
    if (this.#lost !== undefined) return;
    this.#lost = error;
    this.stop();
    this.#onLost(error);
  }
}
