import { isErrorOf, TaskFlowError } from '../core/errors.ts';

/**
 * Stable codes of {@link JobBoardError}, meant for programs:
 * - `FENCED`: a write carried a claim that is no longer the job's current one (the job was
 *   taken over, completed or abandoned); nothing changed. Stop working on the job.
 * - `JOB_NOT_FOUND`: no job has that id (never posted, or trashed).
 * - `JOB_CLAIMED`: the job is held under an unexpired claim, so it cannot be trashed now.
 * - `WAIT_TIMEOUT`: `wait` gave up before the job finished.
 * - `NOT_SERIALIZABLE`: a job's store or outcome cannot be stored exactly as JSON.
 * - `BOARD_UNAVAILABLE`: the backend cannot be reached or is busy; retrying later may help.
 * - `SCHEMA_MISMATCH`: the database was written by a newer version, or its tables are not ours.
 * - `BOARD_CORRUPT`: stored data cannot be read as what it should be.
 * - `BOARD_CLOSED`: the board was used after `close()`.
 * - `INVALID_ARGUMENT`: a bad URL, spec, claim, query, cursor or option was passed in.
 * - `IDEMPOTENCY_CONFLICT`: a post reused an idempotency key with a different spec; the message
 *   names the differing fields, `jobId` the job already posted with that key. Nothing changed.
 * - `REQUEST_REFUSED`: an operator's request was not set, because another one is pending on the
 *   job or the job's state does not allow it; the message says which. Nothing changed.
 */
export const JOB_BOARD_ERROR_CODES = [
  'FENCED',
  'JOB_NOT_FOUND',
  'JOB_CLAIMED',
  'WAIT_TIMEOUT',
  'NOT_SERIALIZABLE',
  'BOARD_UNAVAILABLE',
  'SCHEMA_MISMATCH',
  'BOARD_CORRUPT',
  'BOARD_CLOSED',
  'INVALID_ARGUMENT',
  'IDEMPOTENCY_CONFLICT',
  'REQUEST_REFUSED',
] as const;
/** One of {@link JOB_BOARD_ERROR_CODES}. */
export type JobBoardErrorCode = (typeof JOB_BOARD_ERROR_CODES)[number];

/** Options of {@link JobBoardError}. */
export interface JobBoardErrorOptions {
  readonly cause?: unknown;
  /** The job the problem is about, when there is one. */
  readonly jobId?: string;
}

/**
 * A jobboard problem. `code` is stable; `message` names the job, the value and the fix.
 * `retryable` is true only for `BOARD_UNAVAILABLE`.
 *
 * @example
 * try {
 *   await board.consume(claim, { state: 'SUCCESS' });
 * } catch (error) {
 *   if (isJobBoardError(error, 'FENCED')) stopWorkingOn(claim.jobId);
 *   else throw error;
 * }
 */
export class JobBoardError extends TaskFlowError {
  declare readonly code: JobBoardErrorCode;
  readonly jobId: string | undefined;
  constructor(code: JobBoardErrorCode, message: string, options: JobBoardErrorOptions = {}) {
    super(code, message, { cause: options.cause, retryable: code === 'BOARD_UNAVAILABLE' });
    this.jobId = options.jobId;
  }
}

/** True when `error` is a {@link JobBoardError}, optionally with the given code. */
export function isJobBoardError(error: unknown, code?: JobBoardErrorCode): error is JobBoardError {
  return isErrorOf(error, JobBoardError, code);
}
