import type pg from 'pg';
import { type Migration, readMigrations } from '../../persistence/migration-files.ts';
import { JobBoardError } from '../job-board-error.ts';

/** The jobboard's own version table, so runs and jobs can share a schema and migrate apart. */
export const JOB_VERSION_TABLE = 'taskflow_jobboard_schema_version';
const TABLES = ['taskflow_jobs', 'taskflow_conductors'] as const;

/** Quotes an SQL identifier (a schema name), doubling any quote inside it. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Brings `schema` to the latest jobboard version under a session advisory lock, so boards
 * opening together migrate once. Refuses, before writing anything, a schema at a newer version
 * or whose jobboard tables are not ours.
 */
export async function preparePostgresJobSchema(pool: pg.Pool, schema: string): Promise<void> {
  const migrations = readMigrations(new URL('./migrations/', import.meta.url));
  const client = await pool.connect();
  const lock = `taskflow-ts-jobs:${schema}`;
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
  if (!tables.includes(JOB_VERSION_TABLE)) {
    if (ours.length === 0) return 0;
    throw new JobBoardError(
      'SCHEMA_MISMATCH',
      `PostgreSQL schema "${schema}" has table ${ours.join(', ')} but no ${JOB_VERSION_TABLE}, so the tables were not made by this library; nothing was changed. Use another schema (option "schema"), or drop those tables if they are disposable.`,
    );
  }
  const result = await client.query<{ version: number | null }>(
    `SELECT max(version)::int AS version FROM ${quoteIdentifier(schema)}.${JOB_VERSION_TABLE}`,
  );
  const version = result.rows[0]?.version ?? 0;
  if (version > latest) {
    throw new JobBoardError(
      'SCHEMA_MISMATCH',
      `PostgreSQL schema "${schema}" is at jobboard schema version ${version}, newer than the ${latest} this version of the library knows; nothing was changed. Upgrade the library in every process that uses this database.`,
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
      `CREATE TABLE IF NOT EXISTS ${JOB_VERSION_TABLE} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await client.query(migration.sql);
    await client.query(`INSERT INTO ${JOB_VERSION_TABLE} (version, name) VALUES ($1, $2)`, [
      migration.version,
      migration.name,
    ]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
