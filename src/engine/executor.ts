import type { Clock } from '../core/clock.ts';
import type { FailureJson, JsonValue } from '../core/failure.ts';
import { LiveRevertContext } from './atom-context.ts';
import type { AtomExecutor, AtomWork, WorkOutcome } from './in-process-executor.ts';
import { InProcessExecutor } from './in-process-executor.ts';

/**
 * One execute or revert of a task, as the engine hands it to an {@link Executor}. Plain data
 * but for `signal`, `progress` and `inProcess`, so an executor can send it to another thread
 * or machine.
 */
export interface ExecutionRequest {
  /** The task's definition, by name and version: what a thread or worker looks up. */
  readonly task: { readonly name: string; readonly version: string };
  readonly phase: 'execute' | 'revert';
  readonly inputs: Readonly<Record<string, unknown>>;
  /** 1 for the first execution of the atom in its run, 2 after a re-run, and so on. */
  readonly attempt: number;
  /** Stable across re-executions of the atom in its run. */
  readonly idempotencyKey: string;
  /** The task's timeout; the engine also fails the atom then, and aborts `signal`. */
  readonly timeoutMs: number | undefined;
  /** Aborted on timeout, cancel or shutdown: stop the work (a thread executor ends the thread). */
  readonly signal: AbortSignal;
  /** Reports progress, 0..1, as the task's own `context.progress` does. */
  readonly progress: (fraction: number, details?: JsonValue) => void;
  /** Revert only: how the execute ended. */
  readonly outcome?:
    | { readonly ok: true; readonly result: unknown }
    | { readonly ok: false; readonly failure: FailureJson };
  /** Runs the task's code right here, in the engine's process (the in-process executor's way). */
  readonly inProcess: () => unknown;
}

/**
 * Where a task's code runs: in the engine's process (the default), on worker threads
 * (`ThreadExecutor` from `taskflow-ts/executors`), or on remote workers. The engine hands it
 * each execute and revert and waits for its result; a rejection fails the atom, as a throw in
 * the task would (reject with a `FailureError` to keep a remote error's type, message and stack).
 * A flow does not change when where its tasks run changes: choose with the engine's `executor`
 * option (every task) and `executors` with a task's `runsOn` (one task).
 *
 * @example
 * const engine = new Engine(flow, { executors: { threads: new ThreadExecutor({ tasks: './tasks.ts' }) } });
 */
export interface Executor {
  run(request: ExecutionRequest): Promise<unknown>;
}

/**
 * The engine's seam for an {@link Executor}: builds its request from the atom's work and takes
 * its answer back, with the engine's timeout around it.
 */
class ExecutorSeam implements AtomExecutor {
  readonly #executor: Executor;
  readonly #timing: InProcessExecutor;

  constructor(executor: Executor, clock: Clock) {
    this.#executor = executor;
    this.#timing = new InProcessExecutor(clock);
  }

  run(work: AtomWork, done: WorkOutcome): void {
    const { context } = work;
    const outcome =
      context instanceof LiveRevertContext
        ? context.outcome.ok
          ? { ok: true as const, result: context.outcome.result }
          : { ok: false as const, failure: context.outcome.failure.toJSON() }
        : undefined;
    const request: ExecutionRequest = {
      task: work.task,
      phase: work.phase,
      inputs: work.inputs,
      attempt: context.attempt,
      idempotencyKey: context.idempotencyKey,
      timeoutMs: work.timeoutMs,
      signal: context.signal,
      progress: context.progress,
      ...(outcome === undefined ? {} : { outcome }),
      inProcess: work.call,
    };
    this.#timing.run({ ...work, call: () => this.#executor.run(request) }, done);
  }
}

/** The engine's executors: the default one and the named ones tasks choose with `runsOn`. */
export class Executors {
  readonly #default: AtomExecutor;
  readonly #inProcess: AtomExecutor;
  readonly #named = new Map<string, AtomExecutor>();

  constructor(
    options: {
      readonly executor?: Executor | undefined;
      readonly executors?: Readonly<Record<string, Executor>> | undefined;
    },
    clock: Clock,
  ) {
    this.#inProcess = new InProcessExecutor(clock);
    this.#default =
      options.executor === undefined ? this.#inProcess : new ExecutorSeam(options.executor, clock);
    for (const [name, executor] of Object.entries(options.executors ?? {})) {
      this.#named.set(name, new ExecutorSeam(executor, clock));
    }
  }

  /** The names tasks may give as `runsOn`. */
  names(): string[] {
    return [...this.#named.keys()];
  }

  /** Where an atom's code runs: a retry's always in the engine's process. */
  for(atom: {
    readonly kind: 'task' | 'retry';
    readonly runsOn?: string | undefined;
  }): AtomExecutor {
    if (atom.kind === 'retry') return this.#inProcess;
    if (atom.runsOn === undefined) return this.#default;
    return this.#named.get(atom.runsOn) ?? this.#default;
  }
}
