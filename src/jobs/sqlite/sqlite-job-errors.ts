import { type SqliteErrorKinds, toSqliteError } from '../../drivers/sqlite/sqlite-errors.ts';
import { JobBoardError } from '../job-board-error.ts';

const BOARD_KINDS: SqliteErrorKinds<'BOARD_UNAVAILABLE' | 'BOARD_CORRUPT'> = {
  errorClass: JobBoardError,
  unavailable: 'BOARD_UNAVAILABLE',
  corrupt: 'BOARD_CORRUPT',
  user: 'jobboard',
};

/**
 * Turns a better-sqlite3 error into a {@link JobBoardError} programs can act on; JobBoardErrors
 * and errors that are not SQLite's pass through unchanged.
 */
export function toSqliteJobBoardError(error: unknown, path: string): unknown {
  return toSqliteError(error, path, BOARD_KINDS);
}
