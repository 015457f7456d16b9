import type { DriverErrorKinds } from '../driver-errors.ts';

const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL)/;
const CORRUPT = /^SQLITE_(CORRUPT|NOTADB)/;

/** How an adapter reports better-sqlite3 errors: its error class, codes, and its own name. */
export interface SqliteErrorKinds<C extends string> extends DriverErrorKinds<C> {
  /** What the caller points at the file, in the fix: "store" or "jobboard". */
  readonly user: string;
}

/**
 * Turns a better-sqlite3 error about the file at `path` (or "the SQLite database" when there
 * is none) into the adapter's error class; errors already of the class, and errors that are
 * not SQLite's, pass through unchanged.
 */
export function toSqliteError<C extends string>(
  error: unknown,
  path: string | undefined,
  kinds: SqliteErrorKinds<C>,
): unknown {
  if (error instanceof kinds.errorClass) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  const file = path === undefined ? 'the SQLite database' : `SQLite file ${path}`;
  const reason = error instanceof Error ? error.message : code;
  if (CORRUPT.test(code)) {
    return new kinds.errorClass(
      kinds.corrupt,
      `${file} cannot be read as a database (${code}: ${reason}); it was left unchanged. Restore it from a backup or point the ${kinds.user} at another file.`,
      { cause: error },
    );
  }
  if (UNAVAILABLE.test(code)) {
    return new kinds.errorClass(
      kinds.unavailable,
      `${file} is unavailable (${code}: ${reason}). If another process holds a long write lock, retry later or raise busyTimeoutMs; otherwise check the file's permissions and free disk space.`,
      { cause: error },
    );
  }
  return error;
}
