import { JobBoardError } from '../job-board-error.ts';

const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL)/;
const CORRUPT = /^SQLITE_(CORRUPT|NOTADB)/;

/**
 * Turns a better-sqlite3 error into a {@link JobBoardError} programs can act on; JobBoardErrors
 * and errors that are not SQLite's pass through unchanged.
 */
export function toSqliteJobBoardError(error: unknown, path: string): unknown {
  if (error instanceof JobBoardError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  const reason = error instanceof Error ? error.message : code;
  if (CORRUPT.test(code)) {
    return new JobBoardError(
      'BOARD_CORRUPT',
      `SQLite file ${path} cannot be read as a database (${code}: ${reason}); it was left unchanged. Restore it from a backup or point the jobboard at another file.`,
      { cause: error },
    );
  }
  if (UNAVAILABLE.test(code)) {
    return new JobBoardError(
      'BOARD_UNAVAILABLE',
      `SQLite file ${path} is unavailable (${code}: ${reason}). If another process holds a long write lock, retry later or raise busyTimeoutMs; otherwise check the file's permissions and free disk space.`,
      { cause: error },
    );
  }
  return error;
}
