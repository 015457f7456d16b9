import type { Clock } from '../core/clock.ts';
import type { LeaseFence } from '../core/task.ts';
import type { Lease, RunJournal } from '../persistence/ports.ts';
import { retryingUnavailable } from './unavailable-retry.ts';

// Why checking the lease locally is enough (docs/jobs.md, "Check before acting"):
// a lease is granted by a server that computes its expiry with its own clock, as the time it
// handled the request plus the TTL. This process sent that request no later than the server
// handled it, so `sentAt + ttl` on this process's clocks is no later than the true expiry, as
// long as the clocks run at the same rate (drift is far below the margin) and the server's
// clock is not stepped while a lease runs. Both the engine's clock (wall time, which keeps
// running through a system suspend) and the monotonic clock (which a stepped wall clock cannot
// move) must agree (`SentAt`). While `now < sentAt + ttl - margin`,
// nobody else can have been granted the lease, so starting atom code is safe. A process that
// was paused (SIGSTOP, a long GC, a blocked event loop) sees the gap on its clock at the next
// check and renews before doing anything; if the renewal fails it suspends.

/**
 * The lease a run's writes and atom code happen under, seen from the engine: the run store's
 * own lease for a plain engine, or a job's claim for a run a conductor carries.
 */
export interface LeaseKeeper {
  /** The lease to present with every write. */
  readonly lease: Lease;
  /** What atom code is told of the lease. */
  fence(): LeaseFence;
  /**
   * True when the lease is certainly held for at least the safety margin; otherwise renews it
   * first and resolves false when that fails (the lease is lost, or cannot be confirmed).
   */
  admit(): true | Promise<boolean>;
  /**
   * Before a write: true while the lease is certainly still held, however briefly; otherwise
   * renews it first and resolves false when that fails. A process that was paused past its
   * lease (a newer owner may have claimed the job and not opened the run yet, so the store's
   * fence would still let the write through) finds out here instead of writing as a stale owner.
   */
  confirm(): true | Promise<boolean>;
  /** Stops heartbeats and gives the lease up. */
  release(): Promise<void>;
  /** Stops heartbeats without asking the store: a write already gave the lease up. */
  released(): void;
}

/**
 * A lease held outside the engine that also fences the run: a job's claim, kept alive by the
 * conductor's heartbeat. The run store lease taken with its token lasts as long as the claim.
 */
export interface HeldLease {
  /** The claim's fencing token: the run store refuses writes of any older claim. */
  readonly token: number;
  /** This process's clock time until which the claim is certainly held. */
  validUntil(): number;
  /** How long the claim is certainly still held, by both of this process's clocks. */
  remainingMs(): number;
  /** Renews the claim now; resolves false when it is lost or cannot be renewed in time. */
  renew(): Promise<boolean>;
}

/**
 * The moment a lease request was sent, on two clocks: the engine's `Clock` (wall time by
 * default, which keeps running through a system suspend) and the process's monotonic clock
 * (which a stepped wall clock cannot move). A lease counts as held only while both agree.
 */
export class SentAt {
  readonly #clock: Clock;
  readonly #wall: number;
  readonly #monotonic: number;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#wall = clock.now();
    this.#monotonic = performance.now();
  }

  /** `validUntil` on the engine's clock, for a lease of `ttlMs` granted to this request. */
  until(ttlMs: number): number {
    return this.#wall + ttlMs;
  }

  /** How long a lease of `ttlMs` granted to this request is certainly still held. */
  remainingMs(ttlMs: number): number {
    const wall = this.#wall + ttlMs - this.#clock.now();
    const monotonic = this.#monotonic + ttlMs - performance.now();
    return Math.min(wall, monotonic);
  }
}

/** Safety margin before atom code starts: a third of the TTL, the heartbeat interval. */
export function safetyMarginMs(ttlMs: number): number {
  return Math.floor(ttlMs / 3);
}

/** Keeps a run store lease for a plain engine: heartbeats every third of the TTL. */
export class RunLeaseKeeper implements LeaseKeeper {
  readonly #store: RunJournal;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  #lease: Lease;
  #sent: SentAt;
  #heartbeat: NodeJS.Timeout | undefined;
  #renewing: Promise<boolean> | undefined;
  #released = false;
  readonly #onLost: (error: unknown) => void;

  /** Keeps `lease`, granted to a request sent at `sent`. */
  constructor(options: {
    readonly store: RunJournal;
    readonly clock: Clock;
    readonly ttlMs: number;
    readonly lease: Lease;
    readonly sent: SentAt;
    readonly onLost: (error: unknown) => void;
  }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#lease = options.lease;
    this.#sent = options.sent;
    this.#onLost = options.onLost;
    const every = Math.max(10, Math.floor(options.ttlMs / 3));
    this.#heartbeat = setInterval(() => void this.#renew(), every);
    this.#heartbeat.unref();
  }

  get lease(): Lease {
    return this.#lease;
  }

  fence(): LeaseFence {
    return { token: this.#lease.token, validUntil: this.#sent.until(this.#ttlMs) };
  }

  confirm(): true | Promise<boolean> {
    if (this.#sent.remainingMs(this.#ttlMs) > 0) return true;
    return within(this.#renew(), this.#ttlMs);
  }

  admit(): true | Promise<boolean> {
    if (this.#sent.remainingMs(this.#ttlMs) >= safetyMarginMs(this.#ttlMs)) return true;
    return this.#renew();
  }

  async release(): Promise<void> {
    this.released();
    await this.#store.releaseLease(this.#lease).catch(() => undefined);
  }

  released(): void {
    this.#released = true;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #renew(): Promise<boolean> {
    this.#renewing ??= this.#renewOnce().finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  async #renewOnce(): Promise<boolean> {
    const current = this.#lease;
    try {
      let sent = new SentAt(this.#clock);
      const renewed = await retryingUnavailable(this.#clock, () => {
        // Released while this renewal was retrying: extending the lease now would only make
        // the next engine wait for it.
        if (this.#released) throw RELEASED;
        sent = new SentAt(this.#clock);
        return this.#store.renewLease(current, this.#ttlMs);
      });
      if (this.#released) return false;
      this.#lease = renewed;
      this.#sent = sent;
      return true;
    } catch (error) {
      if (error === RELEASED) return false;
      clearInterval(this.#heartbeat);
      this.#onLost(error);
      return false;
    }
  }
}

const RELEASED = Symbol('lease released');

/** A run carried by a job: writes carry the fenced run lease, validity is the claim's. */
export class ClaimLeaseKeeper implements LeaseKeeper {
  readonly lease: Lease;
  readonly #store: RunJournal;
  readonly #claim: HeldLease;
  readonly #ttlMs: number;
  readonly #marginMs: number;

  /** Keeps `lease`, taken with the token of `claim`, for as long as the claim is held. */
  constructor(options: {
    readonly store: RunJournal;
    readonly claim: HeldLease;
    readonly lease: Lease;
    readonly ttlMs: number;
  }) {
    this.#store = options.store;
    this.#claim = options.claim;
    this.lease = options.lease;
    this.#ttlMs = options.ttlMs;
    this.#marginMs = safetyMarginMs(options.ttlMs);
  }

  fence(): LeaseFence {
    return { token: this.#claim.token, validUntil: this.#claim.validUntil() };
  }

  admit(): true | Promise<boolean> {
    if (this.#claim.remainingMs() >= this.#marginMs) return true;
    return this.#claim.renew();
  }

  confirm(): true | Promise<boolean> {
    if (this.#claim.remainingMs() > 0) return true;
    return within(this.#claim.renew(), this.#ttlMs);
  }

  async release(): Promise<void> {
    await this.#store.releaseLease(this.lease).catch(() => undefined);
  }

  /** Nothing to stop: the claim's heartbeat belongs to the conductor. */
  released(): void {}
}

/**
 * A renewal's answer, or false when it takes longer than `ms`: a lease already run out is not
 * worth waiting on, and a write must not hang on a call that never returns.
 */
function within(renewal: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  return Promise.race([renewal, late]).finally(() => clearTimeout(timer));
}
