import { StorageError } from '../storage-error.ts';

const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL)/;
const CORRUPT = /^SQLITE_(CORRUPT|NOTADB)/;

/**
 * Turns a better-sqlite3 error into a {@link StorageError} with a code programs can act on;
 * StorageErrors and errors that are not SQLite's pass through unchanged.
 */
export function toSqliteStorageError(error: unknown, path?: string): unknown {
  if (error instanceof StorageError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  const file = path === undefined ? 'the SQLite database' : `SQLite file ${path}`;
  const reason = error instanceof Error ? error.message : code;
  if (CORRUPT.test(code)) {
    return new StorageError(
      'STORAGE_CORRUPT',
      `${file} cannot be read as a database (${code}: ${reason}); it was left unchanged. Restore it from a backup or point the store at another file.`,
      { cause: error },
    );
  }
  if (UNAVAILABLE.test(code)) {
    return new StorageError(
      'STORAGE_UNAVAILABLE',
      `${file} is unavailable (${code}: ${reason}). If another process holds a long write lock, retry later or raise busyTimeoutMs; otherwise check the file's permissions and free disk space.`,
      { cause: error },
    );
  }
  return error;
}
