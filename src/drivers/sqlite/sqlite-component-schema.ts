import type Database from 'better-sqlite3';
import { readMigrations } from '../migration-files.ts';
import { SQLITE_APPLICATION_ID } from './sqlite-file.ts';

/** A component that adds its own tables to a taskflow SQLite file, with its own version table. */
export interface SqliteComponentPlan {
  /** The directory of the component's `NNN-name.sql` files. */
  readonly directory: URL;
  /** Records the applied migrations; its highest version is the component's. */
  readonly versionTable: string;
  /** The file is not a taskflow file: what to say. */
  readonly foreign: () => Error;
  /** The component is newer than this code: what to say. */
  readonly newer: (version: number, latest: number) => Error;
}

/**
 * Applies a component's missing migrations to a file that already is a taskflow file (its
 * `application_id` set by the run store or the board), in one IMMEDIATE transaction, so
 * processes opening it together migrate once. A foreign or newer file is refused unchanged.
 */
export function migrateSqliteComponent(db: Database.Database, plan: SqliteComponentPlan): void {
  if (Number(db.pragma('application_id', { simple: true })) !== SQLITE_APPLICATION_ID) {
    throw plan.foreign();
  }
  const migrations = readMigrations(plan.directory);
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${plan.versionTable} (version INTEGER PRIMARY KEY)`);
    const row = db.prepare(`SELECT MAX(version) AS version FROM ${plan.versionTable}`).get() as {
      version: number | null;
    };
    const version = row.version ?? 0;
    if (version > migrations.length) throw plan.newer(version, migrations.length);
    for (const migration of migrations.slice(version)) {
      db.exec(migration.sql);
      db.prepare(`INSERT INTO ${plan.versionTable} (version) VALUES (?)`).run(migration.version);
    }
  }).immediate();
}
