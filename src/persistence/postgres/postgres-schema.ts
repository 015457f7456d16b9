import type pg from 'pg';
import { type Migration, readMigrations } from '../migration-files.ts';
import { StorageError } from '../storage-error.ts';

/** The table that records which migrations were applied; its highest version is the schema's. */
export const VERSION_TABLE = 'taskflow_schema_version';
const TABLES = ['taskflow_logbooks', 'taskflow_flows', 'taskflow_atoms'] as const;

/** Quotes an SQL identifier (a schema name), doubling any quote inside it. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Brings `schema` to the latest version under a session advisory lock, so engines starting
 * together migrate once. Refuses, before writing anything, a schema whose version is newer
 * than this code knows, or whose taskflow tables are not ours or are damaged.
 */
export async function preparePostgresSchema(pool: pg.Pool, schema: string): Promise<void> {
  const migrations = readMigrations(new URL('./migrations/', import.meta.url));
  const client = await pool.connect();
  const lock = `taskflow-ts:${schema}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
    try {
      const version = await currentVersion(client, schema, migrations.length);
      for (const migration of migrations.slice(version)) await apply(client, schema, migration);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]);
    }
  } finally {
    client.release();
  }
}

/** The schema's version after checking it is ours and not newer; 0 for a fresh schema. */
async function currentVersion(
  client: pg.PoolClient,
  schema: string,
  latest: number,
): Promise<number> {
  const { rows } = await client.query<{ table_name: string }>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
    [schema],
  );
  const tables = rows.map((row) => row.table_name);
  const ours = TABLES.filter((table) => tables.includes(table));
  if (!tables.includes(VERSION_TABLE)) {
    if (ours.length === 0) return 0;
    throw mismatch(
      `PostgreSQL schema "${schema}" has table ${ours.join(', ')} but no ${VERSION_TABLE}, so the tables were not made by this library (or were damaged); nothing was changed. Use another schema (option "schema"), or drop those tables if they are disposable.`,
    );
  }
  let version: number;
  try {
    const result = await client.query<{ version: number | null }>(
      `SELECT max(version)::int AS version FROM ${quoteIdentifier(schema)}.${VERSION_TABLE}`,
    );
    version = result.rows[0]?.version ?? 0;
  } catch (error) {
    throw mismatch(
      `PostgreSQL table "${schema}".${VERSION_TABLE} cannot be read as a schema version table (${String(error)}); nothing was changed. Restore it from a backup or use another schema.`,
      error,
    );
  }
  if (version > latest) {
    throw mismatch(
      `PostgreSQL schema "${schema}" is at taskflow schema version ${version}, newer than the ${latest} this version of the library knows; nothing was changed. Upgrade the library in every process that uses this database.`,
    );
  }
  const missing = version === 0 ? [] : TABLES.filter((table) => !tables.includes(table));
  if (missing.length > 0) {
    throw new StorageError(
      'STORAGE_CORRUPT',
      `PostgreSQL schema "${schema}" is at taskflow schema version ${version} but lacks table ${missing.join(', ')}; nothing was changed. Restore it from a backup.`,
    );
  }
  return version;
}

async function apply(client: pg.PoolClient, schema: string, migration: Migration): Promise<void> {
  const quoted = quoteIdentifier(schema);
  await client.query('BEGIN');
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(`SET LOCAL search_path TO ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await client.query(migration.sql);
    await client.query(`INSERT INTO ${VERSION_TABLE} (version, name) VALUES ($1, $2)`, [
      migration.version,
      migration.name,
    ]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

function mismatch(message: string, cause?: unknown): StorageError {
  return new StorageError('SCHEMA_MISMATCH', message, cause === undefined ? {} : { cause });
}
