import { Atom, type AtomOptions, type Inputs, type ProvidesSpec } from './atom.ts';
import type { Failure, JsonValue } from './failure.ts';

/** What every execute and revert receives besides its inputs. */
export interface AtomContext {
  /** Aborted when the task times out or the run is cancelled; pass it to I/O calls. */
  readonly signal: AbortSignal;
  /** 1 for the first execution of this atom in this flow detail, 2 after a re-run, and so on. */
  readonly attempt: number;
  /** Stable across re-executions of this atom in this flow detail: use it to make side effects idempotent. */
  readonly idempotencyKey: string;
  /** Reports progress between 0 and 1; values outside are clamped. */
  progress(fraction: number, details?: JsonValue): void;
  /**
   * The lease the run is written under (for a job, its claim), or undefined when the run is not
   * persisted. Pass `token` to an external system that refuses writes with a smaller token than
   * it has seen, so a stale owner's late side effect is refused there too (docs/jobs.md shows
   * the pattern with a PostgreSQL table).
   */
  readonly lease: LeaseFence | undefined;
}

/** What atom code may know of the lease its run is written under. */
export interface LeaseFence {
  /** The fencing token: a later owner of the run always has a bigger one. */
  readonly token: number;
  /**
   * Epoch milliseconds (this process's clock) until which no other owner can have taken the
   * run over; the engine keeps it current as heartbeats renew the lease.
   */
  readonly validUntil: number;
}

/** The outcome of the execution being reverted. */
export type ExecutionOutcome<Out> =
  | { readonly ok: true; readonly result: Out }
  | { readonly ok: false; readonly failure: Failure };

/**
 * What a task's `revert` receives: the execution context plus what it is undoing.
 *
 * @example
 * revert: (_inputs, { outcome }) => (outcome.ok ? deleteVolume(outcome.result) : undefined)
 */
export interface RevertContext<Out> extends AtomContext {
  /** This task's own result, or its failure when execute threw. */
  readonly outcome: ExecutionOutcome<Out>;
  /** Every failure of the run so far, by atom name. */
  readonly flowFailures: ReadonlyMap<string, Failure>;
}

/** Options of a task besides its code. */
export interface TaskOptions<In extends Inputs, Out> extends AtomOptions<In> {
  /** How the result is published; see {@link ProvidesSpec}. */
  readonly provides?: ProvidesSpec<NoInfer<Out>>;
  /** Fails the execution (and aborts its signal) after this many milliseconds. */
  readonly timeoutMs?: number;
  /**
   * The executor that runs this task's code, by the name the engine's `executors` option gives
   * it (e.g. `'threads'`); the engine's `executor` (in-process by default) when absent.
   */
  readonly runsOn?: string;
}

/**
 * A unit of work that knows how to do one thing and how to undo it.
 *
 * @example
 * class CreateVolume extends Task<{ size: number }, string> {
 *   constructor() {
 *     super({ name: 'create-volume', requires: ['size'], provides: 'volumeId' });
 *   }
 *   async execute({ size }: { size: number }) {
 *     return `vol-${size}`;
 *   }
 *   override async revert(_inputs: { size: number }, { outcome }: RevertContext<string>) {
 *     if (outcome.ok) console.log('deleting', outcome.result);
 *   }
 * }
 */
export abstract class Task<In extends Inputs = Inputs, Out = unknown> extends Atom<In, Out> {
  readonly kind = 'task' as const;
  readonly timeoutMs: number | undefined;
  readonly runsOn: string | undefined;

  constructor(options: TaskOptions<In, Out>) {
    super(options);
    this.timeoutMs = options.timeoutMs;
    this.runsOn = options.runsOn;
  }

  abstract execute(inputs: In, context: AtomContext): Out | Promise<Out>;

  /** Undoes what execute did. The default does nothing. */
  revert(_inputs: In, _context: RevertContext<Out>): unknown {
    return undefined;
  }
}

/** A task written as plain functions. */
export interface TaskDefinition<In extends Inputs, Out> extends TaskOptions<In, Out> {
  execute(inputs: In, context: AtomContext): Out | Promise<Out>;
  revert?(inputs: In, context: RevertContext<Out>): unknown;
}

class FunctionTask<In extends Inputs, Out> extends Task<In, Out> {
  readonly #definition: TaskDefinition<In, Out>;

  constructor(definition: TaskDefinition<In, Out>) {
    super(definition);
    this.#definition = definition;
  }

  execute(inputs: In, context: AtomContext): Out | Promise<Out> {
    return this.#definition.execute(inputs, context);
  }

  override revert(inputs: In, context: RevertContext<Out>): unknown {
    return this.#definition.revert?.(inputs, context);
  }
}

/**
 * Builds a task from functions; input and output types are inferred from `execute`.
 *
 * @example
 * const double = task({
 *   name: 'double',
 *   requires: ['size'],
 *   provides: 'doubled',
 *   execute: ({ size }: { size: number }) => size * 2,
 * });
 */
export function task<In extends Inputs, Out>(definition: TaskDefinition<In, Out>): Task<In, Out> {
  return new FunctionTask(definition);
}

/** Options of {@link mapTask}. */
export interface MapTaskOptions<T, R>
  extends Omit<TaskOptions<Inputs, R[]>, 'requires' | 'provides' | 'optional' | 'rebind'> {
  /** The symbols whose values are mapped, in order. */
  readonly requires: readonly string[];
  /** One name per mapped value, same length as `requires`. */
  readonly provides: readonly string[];
  readonly map: (value: T, context: AtomContext) => R | Promise<R>;
}

/**
 * Applies one function to each required value and provides each result under its own name.
 *
 * @example
 * const squares = mapTask({ name: 'squares', requires: ['a', 'b'], provides: ['a2', 'b2'], map: (x: number) => x * x });
 */
export function mapTask<T, R>(options: MapTaskOptions<T, R>): Task<Inputs, R[]> {
  if (options.requires.length !== options.provides.length) {
    throw new TypeError(
      `mapTask "${options.name}" maps ${options.requires.length} values but provides ${options.provides.length} names; give one name per value.`,
    );
  }
  const { map, ...rest } = options;
  return task<Inputs, R[]>({
    ...rest,
    execute: (inputs, context) =>
      Promise.all(options.requires.map((symbol) => map(inputs[symbol] as T, context))),
  });
}

/** Options of {@link reduceTask}. */
export interface ReduceTaskOptions<T, R>
  extends Omit<TaskOptions<Inputs, R>, 'requires' | 'optional' | 'rebind'> {
  /** The symbols whose values are folded, in order. */
  readonly requires: readonly string[];
  readonly initial: R;
  readonly reduce: (accumulator: R, value: T) => R;
}

/**
 * Folds the required values, in order, into one result.
 *
 * @example
 * const total = reduceTask({ name: 'total', requires: ['a2', 'b2'], provides: 'sum', initial: 0, reduce: (acc, x: number) => acc + x });
 */
export function reduceTask<T, R>(options: ReduceTaskOptions<T, R>): Task<Inputs, R> {
  const { reduce, initial, ...rest } = options;
  return task<Inputs, R>({
    ...rest,
    execute: (inputs) =>
      options.requires.reduce((acc, symbol) => reduce(acc, inputs[symbol] as T), initial),
  });
}
