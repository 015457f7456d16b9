import { isErrorOf, TaskFlowError } from '../core/errors.ts';
import { findJsonProblem } from '../core/json-safety.ts';

/**
 * Stable codes of {@link StorageError}, meant for programs:
 * - `FENCED`: a write or renewal carried a lease that is no longer the run's current one.
 * - `LEASE_HELD`: another owner holds an unexpired lease on the run.
 * - `RUN_NOT_FOUND`: no run (flow detail) has that id.
 * - `ILLEGAL_TRANSITION`: an atom write would move it between states that docs/semantics.md forbids.
 * - `NOT_SERIALIZABLE`: a value cannot be stored exactly as JSON.
 * - `STORAGE_UNAVAILABLE`: the backend cannot be reached or is busy; retrying later may help.
 * - `SCHEMA_MISMATCH`: the database was written by a newer version, or its tables are not ours.
 * - `STORAGE_CORRUPT`: the stored data or file cannot be read as what it should be.
 * - `STORE_CLOSED`: the store was used after `close()`.
 * - `INVALID_ARGUMENT`: a bad URL, query, cursor, lease or option was passed in.
 */
export const STORAGE_ERROR_CODES = [
  'FENCED',
  'LEASE_HELD',
  'RUN_NOT_FOUND',
  'ILLEGAL_TRANSITION',
  'NOT_SERIALIZABLE',
  'STORAGE_UNAVAILABLE',
  'SCHEMA_MISMATCH',
  'STORAGE_CORRUPT',
  'STORE_CLOSED',
  'INVALID_ARGUMENT',
] as const;
/** One of {@link STORAGE_ERROR_CODES}. */
export type StorageErrorCode = (typeof STORAGE_ERROR_CODES)[number];

/** Options of {@link StorageError}. */
export interface StorageErrorOptions {
  readonly cause?: unknown;
  /** The run the problem is about, when there is one. */
  readonly flowId?: string;
}

/**
 * A persistence problem. `code` is stable; `message` names the run, the value and the fix.
 * `retryable` is true only for `STORAGE_UNAVAILABLE`, where backing off and trying again may
 * succeed; every other code means retrying the same call cannot help.
 *
 * @example
 * try {
 *   await store.saveAtoms(flowId, [detail], lease);
 * } catch (error) {
 *   if (error instanceof StorageError && error.code === 'FENCED') stopWorkingOn(flowId);
 *   else throw error;
 * }
 */
export class StorageError extends TaskFlowError {
  declare readonly code: StorageErrorCode;
  readonly flowId: string | undefined;
  constructor(code: StorageErrorCode, message: string, options: StorageErrorOptions = {}) {
    super(code, message, { cause: options.cause, retryable: code === 'STORAGE_UNAVAILABLE' });
    this.flowId = options.flowId;
  }
}

/** True when `error` is a {@link StorageError}, optionally with the given code. */
export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  return isErrorOf(error, StorageError, code);
}

/**
 * Throws a `NOT_SERIALIZABLE` {@link StorageError} naming the offending path when `value`
 * cannot be stored exactly; `subject` says whose value it is, for the message.
 *
 * @example
 * assertJsonSafe(detail.result, { path: 'result', subject: 'atom "charge" of run "r1"' });
 */
export function assertJsonSafe(
  value: unknown,
  options: { readonly path: string; readonly subject: string; readonly flowId?: string },
): void {
  const problem = findJsonProblem(value, options.path);
  if (problem === undefined) return;
  throw new StorageError(
    'NOT_SERIALIZABLE',
    `Cannot store ${options.subject}: ${problem.path} ${problem.reason}. Values are stored as JSON and must come back exactly as they went in.`,
    options.flowId === undefined ? {} : { flowId: options.flowId },
  );
}
