import type pg from 'pg';
import { TaskFlowError } from '../../core/errors.ts';
import { type Migration, readMigrations } from '../migration-files.ts';
import { quoteIdentifier } from './postgres-pool.ts';

/**
 * The errors a caller raises when a schema cannot be migrated. Each caller words them for its
 * own tables and error class; a refusal it leaves out is not checked (or, for `unreadable`, the
 * driver's error propagates as it is).
 */
export interface SchemaRefusals {
  /** Some of our tables exist but the version table does not. */
  readonly unversioned: (ours: readonly string[]) => Error;
  /** The version table exists but cannot be read. */
  readonly unreadable?: (error: unknown) => Error;
  /** The schema is at a version newer than the `latest` this code knows. */
  readonly newer: (version: number, latest: number) => Error;
  /** The schema has a version but lacks tables every version has. */
  readonly incomplete?: (version: number, missing: readonly string[]) => Error;
}

/**
 * The usual refusals, as `SCHEMA_MISMATCH` errors, for a component named `what` (e.g. "The
 * service tokens") in `schema`, for callers with no error class of their own.
 */
export function schemaMismatchRefusals(
  schema: string,
  versionTable: string,
  what: string,
): SchemaRefusals {
  return {
    unversioned: (ours) =>
      new TaskFlowError(
        'SCHEMA_MISMATCH',
        `PostgreSQL schema "${schema}" has table ${ours.join(', ')} but no ${versionTable}; nothing was changed. Use another schema or drop the table if it is disposable.`,
      ),
    newer: (version, latest) =>
      new TaskFlowError(
        'SCHEMA_MISMATCH',
        `${what} in PostgreSQL schema "${schema}" are at version ${version}, newer than the ${latest} this version of the library knows; upgrade the library.`,
      ),
  };
}

/** What to migrate: one component's numbered `.sql` files and its own version table. */
export interface PostgresMigrationPlan {
  /** The directory of `NNN-name.sql` files. */
  readonly directory: URL;
  /** The table recording applied migrations; its highest version is the component's. */
  readonly versionTable: string;
  /** Tables every version has, by which a schema is recognised as holding the component. */
  readonly tables: readonly string[];
  /** The advisory lock key, to which the schema name is appended. */
  readonly lockPrefix: string;
  readonly refuse: SchemaRefusals;
}

/**
 * Brings `schema` to the plan's latest version under a session advisory lock, so processes
 * starting together migrate once. Each migration runs in its own transaction with its row in
 * the version table. Refuses, before writing anything, a schema the plan's refusals reject.
 *
 * @example
 * await migratePostgresSchema(pool, 'taskflow', { directory, versionTable, tables, lockPrefix, refuse });
 */
export async function migratePostgresSchema(
  pool: pg.Pool,
  schema: string,
  plan: PostgresMigrationPlan,
): Promise<void> {
  const migrations = readMigrations(plan.directory);
  // The pool listens for errors only on idle clients: a checked-out client whose server goes
  // away (a restart, pg_terminate_backend) emits 'error' itself, and with no listener that
  // kills the process. The query in flight rejects too, so the error is handled there.
  let failed: unknown;
  const onError = (error: Error): void => {
    failed ??= error;
  };
  const client = await checkOut(pool, onError);
  const lock = `${plan.lockPrefix}${schema}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
    const version = await currentVersion(client, schema, plan, migrations.length);
    for (const migration of migrations.slice(version)) {
      await apply(client, schema, plan.versionTable, migration);
    }
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]);
  } catch (error) {
    failed ??= error;
    throw error;
  } finally {
    // After any failure the connection is discarded, not unlocked: closing the session drops
    // its advisory lock and any open transaction, even when the connection is half broken.
    // The listener stays on a discarded client, which may still report its socket's end.
    if (failed === undefined) client.removeListener('error', onError);
    client.release(failed === undefined ? undefined : toError(failed));
  }
}

/**
 * `pool.connect()` with `onError` listening from the moment the pool hands the client over.
 * The callback form runs in the same tick as the hand-over; the promise form resolves a
 * microtask later, and an error read from the same network chunk would land in between.
 */
function checkOut(pool: pg.Pool, onError: (error: Error) => void): Promise<pg.PoolClient> {
  return new Promise((resolve, reject) => {
    pool.connect((error, client) => {
      if (error || !client) {
        reject(error ?? new Error('pg returned no client'));
        return;
      }
      client.on('error', onError);
      resolve(client);
    });
  });
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** The schema's version after checking it is ours and not newer; 0 for a fresh schema. */
async function currentVersion(
  client: pg.PoolClient,
  schema: string,
  plan: PostgresMigrationPlan,
  latest: number,
): Promise<number> {
  const { rows } = await client.query<{ table_name: string }>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
    [schema],
  );
  const tables = rows.map((row) => row.table_name);
  const ours = plan.tables.filter((table) => tables.includes(table));
  if (!tables.includes(plan.versionTable)) {
    if (ours.length === 0) return 0;
    throw plan.refuse.unversioned(ours);
  }
  const version = await readVersion(client, schema, plan);
  if (version > latest) throw plan.refuse.newer(version, latest);
  const missing = version === 0 ? [] : plan.tables.filter((table) => !tables.includes(table));
  if (missing.length > 0 && plan.refuse.incomplete) throw plan.refuse.incomplete(version, missing);
  return version;
}

async function readVersion(
  client: pg.PoolClient,
  schema: string,
  plan: PostgresMigrationPlan,
): Promise<number> {
  try {
    const result = await client.query<{ version: number | null }>(
      `SELECT max(version)::int AS version FROM ${quoteIdentifier(schema)}.${plan.versionTable}`,
    );
    return result.rows[0]?.version ?? 0;
  } catch (error) {
    if (plan.refuse.unreadable === undefined) throw error;
    throw plan.refuse.unreadable(error);
  }
}

async function apply(
  client: pg.PoolClient,
  schema: string,
  versionTable: string,
  migration: Migration,
): Promise<void> {
  const quoted = quoteIdentifier(schema);
  await client.query('BEGIN');
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(`SET LOCAL search_path TO ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${versionTable} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await client.query(migration.sql);
    await client.query(`INSERT INTO ${versionTable} (version, name) VALUES ($1, $2)`, [
      migration.version,
      migration.name,
    ]);
    await client.query('COMMIT');
  } catch (error) {
    // A failed ROLLBACK (the connection is gone) must not hide why the migration failed; the
    // caller discards the connection, which ends the transaction anyway.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
