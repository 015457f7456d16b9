import type { Clock } from '../core/clock.ts';
import { TaskTimeoutError } from '../core/errors.ts';
import type { LiveAtomContext } from './atom-context.ts';

/** One execute or revert of an atom's code, as the scheduler hands it to an executor. */
export interface AtomWork {
  /** The atom's name, for errors. */
  readonly atom: string;
  /** The task's definition, for executors that run it elsewhere. */
  readonly task: { readonly name: string; readonly version: string };
  readonly phase: 'execute' | 'revert';
  /** What `call` passes the atom's code. */
  readonly inputs: Readonly<Record<string, unknown>>;
  /** Calls the atom's own code with its inputs and context. */
  readonly call: () => unknown;
  readonly context: LiveAtomContext;
  /** Fails the call (and aborts its signal) after this long. */
  readonly timeoutMs: number | undefined;
  /** Waits this long before calling (a retry's backoff). */
  readonly delayMs: number;
}

/** How a call ended: its result, or what it threw. */
export type WorkOutcome = (ok: boolean, value: unknown) => void;

/**
 * Where atom code runs: the seam between the scheduler and the code. `run` reports the outcome
 * through `done` exactly once, synchronously when the code is synchronous, so a flow of
 * synchronous tasks runs without a turn of the event loop per atom.
 */
export interface AtomExecutor {
  run(work: AtomWork, done: WorkOutcome): void;
}

/**
 * Runs atom code in the engine's own process, the default executor.
 *
 * @example
 * const executor = new InProcessExecutor(systemClock);
 * executor.run({ atom: 'a', call: () => 1, context, timeoutMs: undefined, delayMs: 0 }, console.log);
 */
export class InProcessExecutor implements AtomExecutor {
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  run(work: AtomWork, done: WorkOutcome): void {
    let value: unknown;
    if (work.delayMs === 0) {
      try {
        value = work.call();
      } catch (error) {
        done(false, error);
        return;
      }
      if (!isThenable(value)) {
        done(true, value);
        return;
      }
    }
    const settle = async (): Promise<unknown> => {
      if (work.delayMs > 0) {
        await this.#clock.sleep(work.delayMs);
        return await work.call();
      }
      return await value;
    };
    this.#withTimeout(settle(), work).then(
      (result) => done(true, result),
      (error: unknown) => done(false, error),
    );
  }

  #withTimeout(running: Promise<unknown>, work: AtomWork): Promise<unknown> {
    const { timeoutMs } = work;
    if (timeoutMs === undefined) return running;
    const timer = new AbortController();
    const timeout = new Promise<never>((_, reject) => {
      this.#clock.sleep(timeoutMs, timer.signal).then(
        () => {
          const error = new TaskTimeoutError(work.atom, timeoutMs);
          work.context.abort(error);
          reject(error);
        },
        () => undefined,
      );
    });
    return Promise.race([running, timeout]).finally(() => timer.abort());
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
