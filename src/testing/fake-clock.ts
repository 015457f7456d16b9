import type { Clock } from '../core/clock.ts';

/**
 * A clock that only moves when told: `sleep` resolves once `advance` passes its deadline.
 * Records every sleep so tests can assert on delays (retry backoff, timeouts).
 *
 * @example
 * const clock = new FakeClock();
 * const engine = new Engine(flow, { clock });
 * const run = engine.run();
 * await clock.advance(1_000);
 */
export class FakeClock implements Clock {
  #now: number;
  readonly #sleepers: { until: number; resolve: () => void }[] = [];
  /** Every requested sleep, in milliseconds, in order. */
  readonly sleeps: number[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const sleeper = { until: this.#now + ms, resolve };
      this.#sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.#sleepers.indexOf(sleeper);
          if (index >= 0) this.#sleepers.splice(index, 1);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Moves time forward, waking sleepers in deadline order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      const next = this.#sleepers
        .filter((s) => s.until <= target)
        .sort((a, b) => a.until - b.until)[0];
      if (!next) break;
      this.#sleepers.splice(this.#sleepers.indexOf(next), 1);
      this.#now = next.until;
      next.resolve();
    }
    this.#now = target;
    await settle();
  }

  /** Sleeps not yet woken. */
  get pending(): number {
    return this.#sleepers.length;
  }
}

/** Lets pending promise continuations (and one macrotask turn) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
