import type { Atom } from '../core/atom.ts';
import type { Failure, JsonValue } from '../core/failure.ts';
import type { RetryAttempt } from '../core/retry.ts';
import type { AtomState, Intention } from '../core/states.ts';

/** The live, in-memory record of one atom in a run; persisted as an `AtomDetail`. */
export interface AtomRecord {
  readonly node: number;
  readonly atom: Atom;
  state: AtomState;
  intention: Intention;
  hasResult: boolean;
  result: unknown;
  failure: Failure | undefined;
  revertResult: unknown;
  revertFailure: Failure | undefined;
  progress: number;
  attempts: number;
  /** Retries only. */
  history: RetryAttempt[];
  /** Order in which executions finished; reverts go newest first. */
  completedSeq: number;
  meta: Record<string, JsonValue>;
}

export function newAtomRecord(node: number, atom: Atom): AtomRecord {
  return {
    node,
    atom,
    state: 'PENDING',
    intention: 'EXECUTE',
    hasResult: false,
    result: undefined,
    failure: undefined,
    revertResult: undefined,
    revertFailure: undefined,
    progress: 0,
    attempts: 0,
    history: [],
    completedSeq: 0,
    meta: {},
  };
}

/** Back to a fresh PENDING record (reset, or a retry starting its flow again); attempts are kept. */
export function clearAtomRecord(record: AtomRecord): void {
  record.state = 'PENDING';
  record.intention = 'EXECUTE';
  record.hasResult = false;
  record.result = undefined;
  record.failure = undefined;
  record.revertResult = undefined;
  record.revertFailure = undefined;
  record.progress = 0;
  record.completedSeq = 0;
}

/** A read-only view of an atom's record, for callers of the engine. */
export interface AtomSnapshot {
  readonly name: string;
  readonly kind: Atom['kind'];
  readonly state: AtomState;
  readonly intention: Intention;
  /** The execute result, while it is visible (SUCCESS); undefined otherwise. */
  readonly result: unknown;
  readonly failure: Failure | undefined;
  readonly revertResult: unknown;
  readonly revertFailure: Failure | undefined;
  readonly progress: number;
  readonly attempts: number;
  readonly history: readonly RetryAttempt[];
}

export function snapshotOf(record: AtomRecord): AtomSnapshot {
  return {
    name: record.atom.name,
    kind: record.atom.kind,
    state: record.state,
    intention: record.intention,
    result: record.state === 'SUCCESS' ? record.result : undefined,
    failure: record.failure,
    revertResult: record.revertResult,
    revertFailure: record.revertFailure,
    progress: record.progress,
    attempts: record.attempts,
    history: [...record.history],
  };
}
