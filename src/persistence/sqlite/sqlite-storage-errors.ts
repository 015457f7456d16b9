import { type SqliteErrorKinds, toSqliteError } from '../../drivers/sqlite/sqlite-errors.ts';
import { StorageError } from '../storage-error.ts';

const STORAGE_KINDS: SqliteErrorKinds<'STORAGE_UNAVAILABLE' | 'STORAGE_CORRUPT'> = {
  errorClass: StorageError,
  unavailable: 'STORAGE_UNAVAILABLE',
  corrupt: 'STORAGE_CORRUPT',
  user: 'store',
};

/**
 * Turns a better-sqlite3 error into a {@link StorageError} with a code programs can act on;
 * StorageErrors and errors that are not SQLite's pass through unchanged.
 */
export function toSqliteStorageError(error: unknown, path?: string): unknown {
  return toSqliteError(error, path, STORAGE_KINDS);
}
