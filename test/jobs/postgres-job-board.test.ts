import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { openPostgresJobBoard } from '../../src/jobs/postgres/postgres-job-board.ts';
import { openPostgresRunStore } from '../../src/persistence/postgres/postgres-run-store.ts';
import { jobSpec, rejectsWith, runJobBoardContract } from '../../src/testing/jobboard-contract.ts';
import { POSTGRES_URL, postgresUnavailable, TestSchemas } from '../support/servers.ts';

const skip = await postgresUnavailable();
const schemas = new TestSchemas();
after(async () => {
  if (!skip) await schemas.dropAll();
});

runJobBoardContract({
  name: 'postgres',
  skip,
  serverClock: true,
  open: async ({ now, count }) => {
    const schema = schemas.next();
    const boards = [];
    for (let i = 0; i < count; i += 1) {
      boards.push(
        await openPostgresJobBoard({
          url: POSTGRES_URL,
          schema,
          now,
          maxConnections: 4,
          recheckMs: 60_000,
        }),
      );
    }
    return boards;
  },
});

describe('PostgreSQL jobboard', { skip }, () => {
  it('expires real leases: a job held past its TTL is taken over, and the old owner is fenced', async () => {
    const schema = schemas.next();
    const [a, b] = await Promise.all([
      openPostgresJobBoard({ url: POSTGRES_URL, schema }),
      openPostgresJobBoard({ url: POSTGRES_URL, schema }),
    ]);
    try {
      await a.post(jobSpec('short'));
      const first = await a.claim({ owner: 'a', ttlMs: 150 });
      assert.ok(first);
      assert.equal(await b.claim({ owner: 'b', ttlMs: 150 }), undefined);
      const second = await b.claim({ owner: 'b', ttlMs: 5000, waitMs: 3000 });
      assert.equal(second?.claim.token, 2);
      await rejectsWith(a.extend(first.claim, 150), 'FENCED');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('migrates a schema once when many boards open it together, beside the run store', async () => {
    const schema = schemas.next();
    const store = await openPostgresRunStore({ url: POSTGRES_URL, schema });
    await store.close();
    const boards = await Promise.all(
      Array.from({ length: 4 }, () => openPostgresJobBoard({ url: POSTGRES_URL, schema })),
    );
    await Promise.all(boards.map((board) => board.close()));
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT version, name FROM "${schema}".taskflow_jobboard_schema_version`,
      );
      assert.deepEqual(rows, [
        { version: 1, name: 'initial' },
        { version: 2, name: 'operator-request' },
      ]);
      await client.query(
        `INSERT INTO "${schema}".taskflow_jobboard_schema_version (version, name) VALUES (3, 'future')`,
      );
    } finally {
      await client.end();
    }
    await rejectsWith(
      openPostgresJobBoard({ url: POSTGRES_URL, schema }),
      'SCHEMA_MISMATCH',
      /version 3, newer than the 2/,
    );
  });

  it('reports an unreachable server as BOARD_UNAVAILABLE', async () => {
    await rejectsWith(
      openPostgresJobBoard({ url: 'postgres://postgres@127.0.0.1:1/test' }),
      'BOARD_UNAVAILABLE',
      /retry with backoff/,
    );
  });
});
