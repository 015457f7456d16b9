import type Database from 'better-sqlite3';
import { readMigrations } from '../../drivers/migration-files.ts';
import { SQLITE_APPLICATION_ID } from '../../drivers/sqlite/sqlite-file.ts';
import { JobBoardError } from '../job-board-error.ts';

/** The jobboard's own version table, so runs and jobs can share one file and migrate apart. */
export const JOB_VERSION_TABLE = 'taskflow_jobboard_schema_version';
const TABLES = ['taskflow_jobs', 'taskflow_conductors', 'taskflow_job_events'] as const;

/**
 * Checks that the file is empty, or taskflow's (it may hold the run store's tables too), at a
 * jobboard version this code knows; then applies the missing migrations in one IMMEDIATE
 * transaction, so processes opening a new file together migrate it once. A newer, foreign or
 * damaged file is refused before anything is written.
 */
export function prepareSqliteJobSchema(db: Database.Database, path: string): void {
  const migrations = readMigrations(new URL('./migrations/', import.meta.url));
  if (currentVersion(db, path, migrations.length) === migrations.length) return;
  db.transaction(() => {
    const version = currentVersion(db, path, migrations.length);
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${JOB_VERSION_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
    );
    for (const migration of migrations.slice(version)) {
      db.exec(migration.sql);
      db.prepare(
        `INSERT INTO ${JOB_VERSION_TABLE} (version, name, applied_at) VALUES (?, ?, datetime('now'))`,
      ).run(migration.version, migration.name);
    }
    db.pragma(`application_id = ${SQLITE_APPLICATION_ID}`);
  }).immediate();
}

function currentVersion(db: Database.Database, path: string, latest: number): number {
  const applicationId = Number(db.pragma('application_id', { simple: true }));
  const tables = (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
  ).map((row) => row.name);
  const ours = TABLES.filter((table) => tables.includes(table));
  const foreign =
    applicationId !== SQLITE_APPLICATION_ID && (applicationId !== 0 || tables.length > 0);
  if (foreign || (ours.length > 0 && !tables.includes(JOB_VERSION_TABLE))) {
    throw new JobBoardError(
      'SCHEMA_MISMATCH',
      `SQLite file ${path} is not a taskflow database (application_id ${applicationId}, tables: ${tables.join(', ') || 'none'}); it was left unchanged. Point the jobboard at a new file or at one this library created.`,
    );
  }
  if (!tables.includes(JOB_VERSION_TABLE)) return 0;
  const row = db.prepare(`SELECT max(version) AS version FROM ${JOB_VERSION_TABLE}`).get() as {
    version: number | null;
  };
  const version = row.version ?? 0;
  if (version > latest) {
    throw new JobBoardError(
      'SCHEMA_MISMATCH',
      `SQLite file ${path} has jobboard schema version ${version}, newer than the ${latest} this version of the library knows; it was left unchanged. Upgrade the library in every process that uses it.`,
    );
  }
  const missing = version === 0 ? [] : TABLES.filter((table) => !tables.includes(table));
  if (missing.length > 0) {
    throw new JobBoardError(
      'BOARD_CORRUPT',
      `SQLite file ${path} is at jobboard schema version ${version} but lacks table ${missing.join(', ')}; it was left unchanged. Restore it from a backup.`,
    );
  }
  return version;
}
