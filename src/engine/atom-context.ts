import type { Failure, JsonValue } from '../core/failure.ts';
import type { AtomContext, ExecutionOutcome, LeaseFence, RevertContext } from '../core/task.ts';
import type { AtomRecord } from './atom-record.ts';

type ProgressSink = (record: AtomRecord, progress: number, details: JsonValue | undefined) => void;

/**
 * What atom code receives. One object per execution, with no per-execution closures but
 * `progress` (kept bound so it can be destructured); the AbortController is made on first use.
 */
export class LiveAtomContext implements AtomContext {
  readonly attempt: number;
  readonly lease: LeaseFence | undefined;
  readonly progress: (fraction: number, details?: JsonValue) => void;
  readonly #record: AtomRecord;
  readonly #runId: string;
  #controller: AbortController | undefined;

  constructor(
    record: AtomRecord,
    runId: string,
    sink: ProgressSink,
    lease: LeaseFence | undefined,
  ) {
    this.#record = record;
    this.lease = lease;
    this.#runId = runId;
    this.attempt = record.attempts;
    this.progress = (fraction, details) => {
      const value = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
      record.progress = value;
      sink(record, value, details);
    };
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  get idempotencyKey(): string {
    return `${this.#runId}:${this.#record.atom.name}`;
  }

  /** Aborts the signal handed to the atom's code (on timeout). */
  abort(reason: unknown): void {
    this.#controller ??= new AbortController();
    this.#controller.abort(reason);
  }
}

/** What a task's revert receives: the execution context plus its outcome and the run's failures. */
export class LiveRevertContext<Out> extends LiveAtomContext implements RevertContext<Out> {
  readonly outcome: ExecutionOutcome<Out>;
  readonly flowFailures: ReadonlyMap<string, Failure>;

  constructor(
    record: AtomRecord,
    runId: string,
    sink: ProgressSink,
    lease: LeaseFence | undefined,
    flowFailures: ReadonlyMap<string, Failure>,
  ) {
    super(record, runId, sink, lease);
    this.outcome = record.failure
      ? { ok: false, failure: record.failure }
      : { ok: true, result: record.result as Out };
    this.flowFailures = flowFailures;
  }
}
