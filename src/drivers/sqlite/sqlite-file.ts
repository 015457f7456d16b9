import Database from 'better-sqlite3';

/** Marks a SQLite file as taskflow's (`PRAGMA application_id`): "TFTS", for runs and jobs alike. */
export const SQLITE_APPLICATION_ID = 0x54465453;

/** How to open one taskflow SQLite file. */
export interface SqliteFileOptions {
  readonly path: string;
  /** How long a write waits for another process's write lock before failing. Default 5000. */
  readonly busyTimeoutMs?: number | undefined;
  /** Checks the file is ours and migrates it; throws, before anything is written, if not. */
  readonly prepare: (db: Database.Database) => void;
  /** `PRAGMA synchronous`: NORMAL survives a crash of the process, FULL also a power loss. */
  readonly synchronous: 'NORMAL' | 'FULL';
  /** `PRAGMA wal_autocheckpoint` in pages, when not SQLite's default of 1000. */
  readonly walAutocheckpoint?: number;
  /** Turns a driver error into the adapter's error class. */
  readonly toError: (error: unknown) => unknown;
}

/**
 * Opens the file, prepares its schema, then switches it to WAL. A failure closes the file
 * again and is thrown as `toError` turns it.
 */
export function openSqliteFile(options: SqliteFileOptions): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    options.prepare(db);
    // Only now, with the file known to be ours: switching to WAL rewrites the file header.
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    if (options.walAutocheckpoint !== undefined) {
      db.pragma(`wal_autocheckpoint = ${options.walAutocheckpoint}`);
    }
    return db;
  } catch (error) {
    db?.close();
    throw options.toError(error);
  }
}
