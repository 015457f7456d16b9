import type pg from 'pg';
import { migratePostgresSchema } from '../../drivers/postgres/postgres-migrations.ts';
import { StorageError } from '../storage-error.ts';

/** The table that records which migrations were applied; its highest version is the schema's. */
export const VERSION_TABLE = 'taskflow_schema_version';
const TABLES = ['taskflow_logbooks', 'taskflow_flows', 'taskflow_atoms'] as const;

/**
 * Brings `schema` to the latest version under a session advisory lock, so engines starting
 * together migrate once. Refuses, before writing anything, a schema whose version is newer
 * than this code knows, or whose taskflow tables are not ours or are damaged.
 */
export async function preparePostgresSchema(pool: pg.Pool, schema: string): Promise<void> {
  await migratePostgresSchema(pool, schema, {
    directory: new URL('./migrations/', import.meta.url),
    versionTable: VERSION_TABLE,
    tables: TABLES,
    lockPrefix: 'taskflow-ts:',
    refuse: {
      unversioned: (ours) =>
        mismatch(
          `PostgreSQL schema "${schema}" has table ${ours.join(', ')} but no ${VERSION_TABLE}, so the tables were not made by this library (or were damaged); nothing was changed. Use another schema (option "schema"), or drop those tables if they are disposable.`,
        ),
      unreadable: (error) =>
        mismatch(
          `PostgreSQL table "${schema}".${VERSION_TABLE} cannot be read as a schema version table (${String(error)}); nothing was changed. Restore it from a backup or use another schema.`,
          error,
        ),
      newer: (version, latest) =>
        mismatch(
          `PostgreSQL schema "${schema}" is at taskflow schema version ${version}, newer than the ${latest} this version of the library knows; nothing was changed. Upgrade the library in every process that uses this database.`,
        ),
      incomplete: (version, missing) =>
        new StorageError(
          'STORAGE_CORRUPT',
          `PostgreSQL schema "${schema}" is at taskflow schema version ${version} but lacks table ${missing.join(', ')}; nothing was changed. Restore it from a backup.`,
        ),
    },
  });
}

function mismatch(message: string, cause?: unknown): StorageError {
  return new StorageError('SCHEMA_MISMATCH', message, cause === undefined ? {} : { cause });
}
