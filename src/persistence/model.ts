import type { FailureJson, JsonValue } from '../core/failure.ts';
import type { FlowRef } from '../core/flow-ref.ts';
import type { AtomKind, AtomState, FlowState, Intention } from '../core/states.ts';

/** One attempt of a retry's flow, as persisted. */
export interface RetryAttemptRecord {
  readonly result: JsonValue;
  readonly failures: Readonly<Record<string, FailureJson>>;
}

/** The persisted record of one atom in one run. Plain JSON-safe data. */
export interface AtomDetail {
  readonly name: string;
  readonly kind: AtomKind;
  readonly version: string;
  readonly state: AtomState;
  readonly intention: Intention;
  /** Present when the last execution succeeded. */
  readonly result?: JsonValue;
  /** Present when the last execution failed. */
  readonly failure?: FailureJson;
  readonly revertResult?: JsonValue;
  readonly revertFailure?: FailureJson;
  /** 0..1 */
  readonly progress: number;
  /** Executions started so far (a re-run after a crash counts). */
  readonly attempts: number;
  /** Retries only: every attempt of the retry's flow. */
  readonly history?: readonly RetryAttemptRecord[];
  /**
   * Position of the atom's last finished execution in the run's completion order (1, 2, ...),
   * across suspends, crashes and resumes; reverts go from the biggest down. Absent before it ran.
   */
  readonly completion?: number;
  readonly meta: Readonly<Record<string, JsonValue>>;
  /** Epoch milliseconds. */
  readonly updatedAt: number;
}

/** @deprecated Use {@link FlowRef}; this name is kept for one more release. */
export type FlowFactoryRef = FlowRef;

/** The persisted record of one run of a flow. */
export interface FlowDetail {
  readonly id: string;
  readonly logbookId: string;
  readonly name: string;
  readonly state: FlowState;
  readonly store: Readonly<Record<string, JsonValue>>;
  readonly factory?: FlowRef;
  readonly meta: Readonly<Record<string, JsonValue>>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A named group of runs (TaskFlow's logbook), e.g. one per job or per user request. */
export interface LogBook {
  readonly id: string;
  readonly name: string;
  readonly meta: Readonly<Record<string, JsonValue>>;
  readonly createdAt: number;
  readonly updatedAt: number;
}
