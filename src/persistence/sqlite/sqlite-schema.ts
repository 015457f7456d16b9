import type Database from 'better-sqlite3';
import { readMigrations } from '../../drivers/migration-files.ts';
import { SQLITE_APPLICATION_ID } from '../../drivers/sqlite/sqlite-file.ts';
import { StorageError } from '../storage-error.ts';

/** Tables every version of the schema has; a file that claims to be ours but lacks one is corrupt. */
const TABLES = ['taskflow_logbooks', 'taskflow_flows', 'taskflow_atoms'] as const;

/**
 * Checks that the file is empty or one of ours at a version this code knows, then applies the
 * missing migrations. A newer, foreign or damaged file is refused before anything is written
 * (the caller sets WAL mode only afterwards, since that too changes the file).
 */
export function prepareSqliteSchema(db: Database.Database, path: string): void {
  const migrations = readMigrations(new URL('./migrations/', import.meta.url));
  const latest = migrations.length;
  const found = inspect(db);
  refuseUnknown(found, path, latest);
  if (found.version === latest) return;
  // IMMEDIATE takes the write lock first, so two processes opening a new file migrate it once.
  db.transaction(() => {
    const now = inspect(db);
    refuseUnknown(now, path, latest);
    for (const migration of migrations.slice(now.version)) db.exec(migration.sql);
    db.pragma(`application_id = ${SQLITE_APPLICATION_ID}`);
    db.pragma(`user_version = ${latest}`);
  }).immediate();
}

interface Found {
  readonly applicationId: number;
  readonly version: number;
  readonly tables: readonly string[];
}

function inspect(db: Database.Database): Found {
  const applicationId = Number(db.pragma('application_id', { simple: true }));
  const version = Number(db.pragma('user_version', { simple: true }));
  const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
    name: string;
  }[];
  return { applicationId, version, tables: rows.map((row) => row.name) };
}

function refuseUnknown(found: Found, path: string, latest: number): void {
  const empty = found.applicationId === 0 && found.version === 0 && found.tables.length === 0;
  if (empty) return;
  if (found.applicationId !== SQLITE_APPLICATION_ID) {
    throw new StorageError(
      'SCHEMA_MISMATCH',
      `SQLite file ${path} is not a taskflow database (application_id ${found.applicationId}, tables: ${found.tables.join(', ') || 'none'}); it was left unchanged. Point the store at a new file or at one this library created.`,
    );
  }
  if (found.version > latest) {
    throw new StorageError(
      'SCHEMA_MISMATCH',
      `SQLite file ${path} has schema version ${found.version}, newer than the ${latest} this version of the library knows; it was left unchanged. Upgrade the library to open it.`,
    );
  }
  const missing =
    found.version === 0 ? [] : TABLES.filter((table) => !found.tables.includes(table));
  if (missing.length > 0) {
    throw new StorageError(
      'STORAGE_CORRUPT',
      `SQLite file ${path} says schema version ${found.version} but lacks table ${missing.join(', ')}; it was left unchanged. Restore it from a backup.`,
    );
  }
}
