import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { openPostgresRunStore } from '../../src/persistence/postgres/postgres-run-store.ts';
import { isStorageError } from '../../src/persistence/storage-error.ts';
import {
  atomDetail,
  flowDetail,
  runRunStoreContract,
} from '../../src/testing/run-store-contract.ts';
import { POSTGRES_URL, postgresUnavailable, TestSchemas } from '../support/servers.ts';

const skip = await postgresUnavailable();
const schemas = new TestSchemas();
after(async () => {
  if (!skip) await schemas.dropAll();
});
const book = { id: 'book-1', name: 'book', meta: {}, createdAt: 0, updatedAt: 0 };

runRunStoreContract({
  name: 'postgres',
  skip,
  numRuns: 25,
  serverClock: true,
  open: ({ now }) => openPostgresRunStore({ url: POSTGRES_URL, schema: schemas.next(), now }),
});

/** A snapshot of everything in a schema: tables, columns and every row, to prove nothing changed. */
async function snapshot(client: pg.Client, schema: string): Promise<string> {
  const { rows: tables } = await client.query<{ table_name: string }>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
    [schema],
  );
  const parts: unknown[] = [];
  for (const { table_name } of tables) {
    const { rows } = await client.query(`SELECT * FROM "${schema}"."${table_name}" ORDER BY 1`);
    parts.push(table_name, rows);
  }
  return JSON.stringify(parts);
}

describe('PostgreSQL run store', { skip }, () => {
  it('migrates a new schema once even when many stores open it together', async () => {
    const schema = schemas.next();
    const stores = await Promise.all(
      Array.from({ length: 5 }, () => openPostgresRunStore({ url: POSTGRES_URL, schema })),
    );
    await Promise.all(stores.map((store) => store.close()));
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    const { rows } = await client.query(
      `SELECT version, name FROM "${schema}".taskflow_schema_version ORDER BY version`,
    );
    await client.end();
    assert.deepEqual(rows, [
      { version: 1, name: 'initial' },
      { version: 2, name: 'save-atoms-function' },
      { version: 3, name: 'open-and-save-run' },
    ]);
  });

  it('refuses a schema at a newer version, or with tables not made by it, and changes nothing', async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      const newer = schemas.next();
      const store = await openPostgresRunStore({ url: POSTGRES_URL, schema: newer });
      await store.ensureFlow(book, flowDetail('run-1'));
      await store.close();
      await client.query(
        `INSERT INTO "${newer}".taskflow_schema_version (version, name, applied_at) VALUES (4, 'future', '2030-01-01')`,
      );
      const before = await snapshot(client, newer);
      await assert.rejects(
        openPostgresRunStore({ url: POSTGRES_URL, schema: newer }),
        (error: unknown) =>
          isStorageError(error, 'SCHEMA_MISMATCH') &&
          /version 4, newer than the 3 .*Upgrade the library/.test(error.message),
      );
      assert.equal(await snapshot(client, newer), before);

      const foreign = schemas.next();
      await client.query(`CREATE SCHEMA "${foreign}"`);
      await client.query(`CREATE TABLE "${foreign}".taskflow_flows (id int PRIMARY KEY)`);
      const foreignBefore = await snapshot(client, foreign);
      await assert.rejects(
        openPostgresRunStore({ url: POSTGRES_URL, schema: foreign }),
        (error: unknown) =>
          isStorageError(error, 'SCHEMA_MISMATCH') &&
          /not made by this library/.test(error.message),
      );
      assert.equal(await snapshot(client, foreign), foreignBefore);
    } finally {
      await client.end();
    }
  });

  it('lets a pool passed in outlive the store, and reports a dropped connection as retryable', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
    pool.on('error', () => {});
    const store = await openPostgresRunStore({ pool, schema: schemas.next() });
    await store.ensureFlow(book, flowDetail('run-1'));
    const lease = await store.acquireLease('run-1', 'engine-a', 60_000);
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    // Settled into a value at once, so its rejection is handled before the kill lands.
    const writing = store.saveAtoms('run-1', [atomDetail('a')], lease).then(
      () => undefined,
      (error: unknown) => error,
    );
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
    await admin.end();
    // The write raced the kill: it either landed or failed as STORAGE_UNAVAILABLE.
    const failed = await writing;
    if (failed !== undefined)
      assert.ok(isStorageError(failed, 'STORAGE_UNAVAILABLE') && failed.retryable, String(failed));
    await store
      .saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING' })], lease)
      .catch(async (error: unknown) => {
        assert.ok(isStorageError(error, 'STORAGE_UNAVAILABLE'), String(error));
        await store.saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING' })], lease);
      });
    assert.equal((await store.loadRun('run-1'))?.atoms[0]?.state, 'RUNNING');
    await store.close();
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0]?.one, 1);
    await pool.end();
  });
});
