import { TaskFlowError } from '../core/errors.ts';
import { Failure, type JsonValue } from '../core/failure.ts';
import type { AtomDetail } from '../persistence/model.ts';
import type { AtomRecord } from './atom-record.ts';

// How an engine's in-memory atom record and the persisted atom detail map onto each other.

/** The persisted form of a record, stamped `now`. */
export function toDetail(record: AtomRecord, now: number): AtomDetail {
  return {
    name: record.atom.name,
    kind: record.atom.kind,
    version: record.atom.version,
    state: record.state,
    intention: record.intention,
    ...(record.hasResult && record.result !== undefined
      ? { result: record.result as JsonValue }
      : {}),
    ...(record.failure ? { failure: record.failure.toJSON() } : {}),
    ...(record.revertResult !== undefined
      ? { revertResult: record.revertResult as JsonValue }
      : {}),
    ...(record.revertFailure ? { revertFailure: record.revertFailure.toJSON() } : {}),
    progress: record.progress,
    attempts: record.attempts,
    ...(record.atom.kind === 'retry'
      ? {
          history: record.history.map((attempt) => ({
            result: (attempt.result ?? null) as JsonValue,
            failures: Object.fromEntries(
              Object.entries(attempt.failures).map(([name, f]) => [name, f.toJSON()]),
            ),
          })),
        }
      : {}),
    ...(record.completedSeq > 0 ? { completion: record.completedSeq } : {}),
    meta: record.meta,
    updatedAt: now,
  };
}

/**
 * Loads a persisted detail into the record of the same atom; refuses a detail recorded for
 * another kind of atom, or another version unless `allowVersionChange`.
 */
export function applyDetail(
  record: AtomRecord,
  detail: AtomDetail,
  allowVersionChange: boolean,
): void {
  if (detail.kind !== record.atom.kind) {
    throw new TaskFlowError(
      'DEFINITION_MISMATCH',
      `Atom "${detail.name}" was recorded as a ${detail.kind} but the flow now defines a ${record.atom.kind}; give the new atom another name.`,
    );
  }
  if (detail.version !== record.atom.version && !allowVersionChange) {
    throw new TaskFlowError(
      'VERSION_MISMATCH',
      `Atom "${detail.name}" was recorded at version ${detail.version} but the flow defines version ${record.atom.version}; pass allowVersionChange to continue the run with the new version.`,
    );
  }
  record.state = detail.state;
  record.intention = detail.intention;
  record.hasResult = 'result' in detail || detail.state === 'SUCCESS';
  record.result = detail.result;
  record.failure = detail.failure ? Failure.fromJson(detail.failure) : undefined;
  record.revertResult = detail.revertResult;
  record.revertFailure = detail.revertFailure ? Failure.fromJson(detail.revertFailure) : undefined;
  record.progress = detail.progress;
  record.attempts = detail.attempts;
  record.history = (detail.history ?? []).map((attempt) => ({
    result: attempt.result,
    failures: Object.fromEntries(
      Object.entries(attempt.failures).map(([name, f]) => [name, Failure.fromJson(f)]),
    ),
  }));
  record.completedSeq = detail.completion ?? 0;
  record.meta = { ...detail.meta };
}
