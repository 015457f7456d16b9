import type { JobEvent } from './model.ts';

/** Why {@link WakeUp.next} returned. */
export type WakeReason = 'event' | 'timer' | 'aborted';

/**
 * Sleeps until a matching board event, a timer, or an abort. It subscribes at construction
 * and latches events that arrive while the caller is busy (e.g. between a failed claim and the
 * next sleep), so a wake-up is never missed: the usual lost-wake-up race of check-then-sleep.
 *
 * @example
 * const wake = await WakeUp.open((l) => backend.subscribe(l), (e) => e.type === 'posted');
 * try {
 *   while ((await tryClaim()) === undefined) await wake.next(1000, signal);
 * } finally {
 *   wake.close();
 * }
 */
export class WakeUp {
  #unsubscribe: () => void = () => {};
  #pending = false;
  #resolve: ((reason: WakeReason) => void) | undefined;

  /** Subscribes; resolves once the backend delivers every later event. */
  static async open(
    subscribe: (listener: (event: JobEvent) => void) => Promise<() => void>,
    matches: (event: JobEvent) => boolean,
  ): Promise<WakeUp> {
    const wake = new WakeUp();
    wake.#unsubscribe = await subscribe((event) => {
      if (!matches(event)) return;
      if (wake.#resolve === undefined) wake.#pending = true;
      else wake.#resolve('event');
    });
    return wake;
  }

  /** Resolves with why it woke: a matching event (possibly latched earlier), `ms` passing, or an abort. */
  next(ms: number, signal: AbortSignal | undefined): Promise<WakeReason> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve('event');
    }
    if (signal?.aborted) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      const finish = (reason: WakeReason): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#resolve = undefined;
        resolve(reason);
      };
      const onAbort = (): void => finish('aborted');
      const timer = setTimeout(() => finish('timer'), Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#resolve = finish;
    });
  }

  close(): void {
    this.#unsubscribe();
    this.#resolve?.('aborted');
  }
}
