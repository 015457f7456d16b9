import { Atom, type AtomOptions, type Inputs, type ProvidesSpec } from './atom.ts';
import { TaskFlowError } from './errors.ts';
import type { Failure } from './failure.ts';
import type { AtomContext } from './task.ts';

/** What a retry decides when something inside its flow fails. */
export const RETRY_DECISIONS = ['RETRY', 'REVERT', 'REVERT_ALL'] as const;
/** RETRY the flow, REVERT it (escalating by default), or REVERT_ALL of the run. */
export type RetryDecision = (typeof RETRY_DECISIONS)[number];

/** One attempt of a retry's flow: the value the retry provided and what failed in it. */
export interface RetryAttempt {
  readonly result: unknown;
  readonly failures: Readonly<Record<string, Failure>>;
}

/** Every attempt so far, oldest first; while deciding, the last one holds the current failures. */
export type RetryHistory = readonly RetryAttempt[];

/** Exponential backoff between attempts: `initialMs * factor^(n-1)`, capped, with optional jitter. */
export interface Backoff {
  readonly initialMs: number;
  /** Default 2. */
  readonly factor?: number;
  /** Default no cap. */
  readonly maxMs?: number;
  /** When true (default), waits a random time between half and all of the computed delay. */
  readonly jitter?: boolean;
}

/**
 * Options every retry takes: an atom's options plus what it provides to its flow.
 *
 * @example
 * const options: RetryOptions<Inputs, number> = { name: 'attempts', provides: 'attempt' };
 */
export interface RetryOptions<In extends Inputs, Out> extends AtomOptions<In> {
  readonly provides?: ProvidesSpec<Out>;
  readonly backoff?: Backoff;
}

/**
 * A controller attached to a flow: it runs before the flow's children, and when one of them
 * fails it decides whether to retry the flow, revert it, or revert everything.
 *
 * @example
 * class UntilQuota extends Retry<Inputs, number> {
 *   execute(history: RetryHistory) { return history.length + 1; }
 *   onFailure(history: RetryHistory): RetryDecision { return history.length < 5 ? 'RETRY' : 'REVERT'; }
 * }
 * const flow = linearFlow('charge', [chargeCard], { retry: new UntilQuota({ name: 'quota' }) });
 */
export abstract class Retry<In extends Inputs = Inputs, Out = unknown> extends Atom<In, Out> {
  readonly kind = 'retry' as const;
  readonly backoff: Backoff | undefined;

  constructor(options: RetryOptions<In, Out>) {
    super(options);
    this.backoff = options.backoff;
    if (options.backoff) validateBackoff(options.name, options.backoff);
  }

  /** Runs before each attempt of the flow; the result is provided to the flow's atoms. */
  abstract execute(history: RetryHistory, inputs: In, context: AtomContext): Out | Promise<Out>;

  /** Decides what to do about the failures recorded in the last attempt of `history`. */
  abstract onFailure(history: RetryHistory, inputs: In): RetryDecision;

  /** Runs when the retry itself is reverted. The default does nothing. */
  revert(_history: RetryHistory, _inputs: In, _context: AtomContext): unknown {
    return undefined;
  }

  /** Milliseconds to wait before attempt number `history.length + 1`. */
  delayMs(history: RetryHistory, random: () => number): number {
    const backoff = this.backoff;
    if (!backoff || history.length === 0) return 0;
    const raw = backoff.initialMs * (backoff.factor ?? 2) ** (history.length - 1);
    const capped = Math.min(raw, backoff.maxMs ?? Number.POSITIVE_INFINITY);
    return backoff.jitter === false ? capped : capped / 2 + (random() * capped) / 2;
  }
}

function validateBackoff(name: string, backoff: Backoff): void {
  const { initialMs, factor = 2, maxMs = 0 } = backoff;
  if (!(initialMs >= 0) || !(factor >= 1) || !(maxMs >= 0)) {
    throw new TaskFlowError(
      'INVALID_DEFINITION',
      `Retry "${name}" has backoff ${JSON.stringify(backoff)}; use initialMs >= 0, factor >= 1 and maxMs >= 0.`,
    );
  }
}

/**
 * Options of {@link Times}.
 *
 * @example
 * new Times({ name: 'thrice', attempts: 3, backoff: { initialMs: 100 } });
 */
export interface TimesOptions extends RetryOptions<Inputs, number> {
  /** Total attempts, the first included. */
  readonly attempts: number;
  /** Decide REVERT_ALL instead of REVERT when attempts run out. */
  readonly revertAll?: boolean;
}

/**
 * Tries its flow up to `attempts` times; provides the attempt number (1, 2, ...).
 *
 * @example
 * linearFlow('boot', [bootServer], { retry: new Times({ name: 'boot-retry', attempts: 3, backoff: { initialMs: 100 } }) });
 */
export class Times extends Retry<Inputs, number> {
  readonly attempts: number;
  readonly #revertAll: boolean;

  constructor(options: TimesOptions) {
    super(options);
    if (!Number.isInteger(options.attempts) || options.attempts < 1) {
      throw new TaskFlowError(
        'INVALID_DEFINITION',
        `Retry "${options.name}" has attempts ${options.attempts}; use a whole number of at least 1.`,
      );
    }
    this.attempts = options.attempts;
    this.#revertAll = options.revertAll === true;
  }

  execute(history: RetryHistory): number {
    return history.length + 1;
  }

  onFailure(history: RetryHistory): RetryDecision {
    if (history.length < this.attempts) return 'RETRY';
    return this.#revertAll ? 'REVERT_ALL' : 'REVERT';
  }
}

/** Thrown by a for-each retry that has no value left to try. */
export class NoValuesLeftError extends TaskFlowError {
  constructor(retry: string, total: number) {
    super(
      'NO_VALUES_LEFT',
      total === 0
        ? `Retry "${retry}" was given an empty collection; give it at least one value to try.`
        : `Retry "${retry}" has tried all ${total} of its values.`,
    );
  }
}

/** The values not tried yet: each tried value removes one occurrence, so duplicates are tried again. */
function remaining(values: readonly unknown[], history: RetryHistory): unknown[] {
  const left = [...values];
  for (const attempt of history) {
    const index = left.findIndex((v) => Object.is(v, attempt.result));
    if (index >= 0) left.splice(index, 1);
  }
  return left;
}

function nextValue(retry: string, values: readonly unknown[], history: RetryHistory): unknown {
  const left = remaining(values, history);
  if (left.length === 0) throw new NoValuesLeftError(retry, values.length);
  return left[0];
}

function decideForEach(
  values: readonly unknown[],
  history: RetryHistory,
  revertAll: boolean,
): RetryDecision {
  if (remaining(values, history).length > 0) return 'RETRY';
  return revertAll ? 'REVERT_ALL' : 'REVERT';
}

/**
 * Options of {@link ForEach}.
 *
 * @example
 * new ForEach({ name: 'zones', values: ['a', 'b'], provides: 'zone' });
 */
export interface ForEachOptions<T> extends RetryOptions<Inputs, T> {
  readonly values: readonly T[];
  readonly revertAll?: boolean;
}

/**
 * Tries its flow once per value, in order (duplicates included), providing the value.
 *
 * @example
 * linearFlow('pick-zone', [createServer], { retry: new ForEach({ name: 'zones', values: ['a', 'b'], provides: 'zone' }) });
 */
export class ForEach<T> extends Retry<Inputs, T> {
  readonly values: readonly T[];
  readonly #revertAll: boolean;

  constructor(options: ForEachOptions<T>) {
    super(options);
    this.values = [...options.values];
    this.#revertAll = options.revertAll === true;
  }

  execute(history: RetryHistory): T {
    return nextValue(this.name, this.values, history) as T;
  }

  onFailure(history: RetryHistory): RetryDecision {
    return decideForEach(this.values, history, this.#revertAll);
  }
}

/**
 * Options of {@link ParameterizedForEach}: the values come from the symbol `values` (rebind it).
 *
 * @example
 * new ParameterizedForEach({ name: 'zones', rebind: { values: 'zoneList' }, provides: 'zone' });
 */
export interface ParameterizedForEachOptions<T> extends RetryOptions<{ values: readonly T[] }, T> {
  readonly revertAll?: boolean;
}

/**
 * Like {@link ForEach}, but the values come from the symbol `values` (rebind it to read another).
 *
 * @example
 * new ParameterizedForEach({ name: 'zones', rebind: { values: 'candidateZones' }, provides: 'zone' });
 */
export class ParameterizedForEach<T> extends Retry<{ values: readonly T[] }, T> {
  readonly #revertAll: boolean;

  constructor(options: ParameterizedForEachOptions<T>) {
    super({ ...options, requires: ['values'] });
    this.#revertAll = options.revertAll === true;
  }

  execute(history: RetryHistory, inputs: { values: readonly T[] }): T {
    return nextValue(this.name, toArray(this.name, inputs.values), history) as T;
  }

  onFailure(history: RetryHistory, inputs: { values: readonly T[] }): RetryDecision {
    return decideForEach(toArray(this.name, inputs.values), history, this.#revertAll);
  }
}

function toArray<T>(retry: string, values: unknown): readonly T[] {
  if (!Array.isArray(values)) {
    throw new TaskFlowError(
      'INVALID_INPUT',
      `Retry "${retry}" needs an array in "values", got ${typeof values}.`,
    );
  }
  return values as T[];
}

/** Never retries: reverts its own flow and lets the enclosing retry (if any) decide. */
export class AlwaysRevert extends Retry {
  execute(): undefined {
    return undefined;
  }

  onFailure(): RetryDecision {
    return 'REVERT';
  }
}

/** Never retries: reverts the whole run. */
export class AlwaysRevertAll extends Retry {
  execute(): undefined {
    return undefined;
  }

  onFailure(): RetryDecision {
    return 'REVERT_ALL';
  }
}
