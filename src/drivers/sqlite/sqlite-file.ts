import { closeSync, existsSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { loadDriver } from '../load-driver.ts';

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

/** Paths SQLite takes as "no file": an in-memory or a temporary database. */
function isFilePath(path: string): boolean {
  return path !== '' && path !== ':memory:' && !path.startsWith('file:');
}

/**
 * The message for a file a reader expects but that does not exist, or undefined when it
 * exists (or is no file). Readers check this before opening, so that a mistyped path is an
 * error naming it instead of a new, empty database.
 */
export function missingSqliteFile(path: string): string | undefined {
  if (!isFilePath(path) || existsSync(path)) return undefined;
  const absolute = resolve(path);
  const where = absolute === path ? '' : ` (${absolute})`;
  return `The SQLite file "${path}"${where} does not exist; check the path. Only commands that write create a new file.`;
}

/**
 * Creates the file with mode 0600 (owner only) when it does not exist yet: it holds run
 * results and job specs. SQLite gives its `-wal` and `-shm` files the database file's mode.
 */
function createPrivately(path: string): void {
  if (!isFilePath(path)) return;
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch {
    // It exists (perhaps another process just made it), or cannot be made: SQLite opens it,
    // or reports why not in its own words.
  }
}

/**
 * Opens the file (created with mode 0600 when missing), prepares its schema, then switches it
 * to WAL. A failure closes the file again and is thrown as `toError` turns it.
 */
export function openSqliteFile(options: SqliteFileOptions): Database.Database {
  const Driver = loadDriver<typeof Database>('better-sqlite3', 'sqlite:// files');
  let db: Database.Database | undefined;
  try {
    createPrivately(options.path);
    db = new Driver(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
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
