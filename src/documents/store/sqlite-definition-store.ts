import type Database from 'better-sqlite3';
import { TaskFlowError } from '../../core/errors.ts';
import { migrateSqliteComponent } from '../../drivers/sqlite/sqlite-component-schema.ts';
import { openSqliteFile } from '../../drivers/sqlite/sqlite-file.ts';
import { type DefinitionRowData, type DefinitionStore, fromRow } from './definition-store.ts';

const VERSION_TABLE = 'taskflow_definition_version';
const COLUMNS = 'name, version, document, digest, created_at';

/**
 * Definitions in the run store's SQLite file, in their own table with their own migrations.
 * The file must already be a taskflow run store (open the run store first, which creates it).
 */
export function openSqliteDefinitionStore(path: string): DefinitionStore {
  const db = openSqliteFile({
    path,
    synchronous: 'NORMAL',
    prepare: (opened) => prepare(opened, path),
    toError: (error) => error,
  });
  const insert = db.prepare(
    `INSERT OR IGNORE INTO taskflow_definitions (${COLUMNS}) VALUES (?, ?, ?, ?, ?)`,
  );
  const byVersion = db.prepare(
    `SELECT ${COLUMNS} FROM taskflow_definitions WHERE name = ? AND version = ?`,
  );
  const newest = db.prepare(
    `SELECT ${COLUMNS} FROM taskflow_definitions WHERE name = ? ORDER BY seq DESC LIMIT 1`,
  );
  const all = db.prepare(`SELECT ${COLUMNS} FROM taskflow_definitions ORDER BY name, seq`);
  return {
    async insert(d) {
      return (
        insert.run(d.name, d.version, JSON.stringify(d.document), d.digest, d.createdAt).changes > 0
      );
    },
    async get(name, version) {
      const row = (version === undefined ? newest.get(name) : byVersion.get(name, version)) as
        | DefinitionRowData
        | undefined;
      return row === undefined ? undefined : fromRow(row);
    },
    async list() {
      return (all.all() as DefinitionRowData[]).map(fromRow);
    },
    async close() {
      if (db.open) db.close();
    },
  };
}

function prepare(db: Database.Database, path: string): void {
  migrateSqliteComponent(db, {
    directory: new URL('./migrations/sqlite/', import.meta.url),
    versionTable: VERSION_TABLE,
    foreign: () =>
      new TaskFlowError(
        'SCHEMA_MISMATCH',
        `SQLite file ${path} is not a taskflow run store, so it cannot hold flow definitions; pass the URL of the run store (--runs), which is created when the service first opens it.`,
      ),
    newer: (version, latest) =>
      new TaskFlowError(
        'SCHEMA_MISMATCH',
        `The flow definitions in ${path} are at schema version ${version}, newer than the ${latest} this version of the library knows; upgrade the library.`,
      ),
  });
}
