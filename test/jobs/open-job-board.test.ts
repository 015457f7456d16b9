import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openJobBoard } from '../../src/jobs/open-job-board.ts';
import { jobSpec, rejectsWith } from '../../src/testing/jobboard-contract.ts';
import { POSTGRES_URL, REDIS_URL, testServers } from '../support/servers.ts';

const { dir, schemas, prefixes, pgSkip, redisSkip } = await testServers('open-board');

describe('openJobBoard', () => {
  it('opens a memory board and a SQLite file named by the URL', async () => {
    const memory = await openJobBoard('memory://');
    assert.equal((await memory.post(jobSpec('m'))).state, 'UNCLAIMED');
    await memory.close();
    const url = `sqlite://${join(dir, 'jobs.db')}?busyTimeoutMs=2000&pollMs=10`;
    const first = await openJobBoard(url);
    const job = await first.post(jobSpec('kept'));
    await first.close();
    const second = await openJobBoard(url);
    assert.deepEqual(await second.get(job.id), job);
    await second.close();
  });

  it('opens PostgreSQL with the schema from the URL', { skip: pgSkip }, async () => {
    const schema = schemas.next();
    const board = await openJobBoard(`${POSTGRES_URL}?schema=${schema}`);
    const job = await board.post(jobSpec('pg'));
    await board.close();
    const again = await openJobBoard(
      `${POSTGRES_URL.replace('postgres:', 'postgresql:')}?schema=${schema}`,
    );
    assert.equal((await again.get(job.id))?.name, 'pg');
    await again.close();
  });

  it('opens Redis with the prefix from the URL or the options', { skip: redisSkip }, async () => {
    const prefix = prefixes.next();
    const board = await openJobBoard(`${REDIS_URL}?prefix=${encodeURIComponent(prefix)}`);
    const job = await board.post(jobSpec('redis'));
    await board.close();
    const again = await openJobBoard(REDIS_URL, { prefix });
    assert.equal((await again.get(job.id))?.name, 'redis');
    await again.close();
  });

  it('refuses an unknown scheme, listing the supported ones, and a bad parameter', async () => {
    await rejectsWith(
      openJobBoard('zookeeper://zk:2181'),
      'INVALID_ARGUMENT',
      /unsupported scheme "zookeeper:".*memory:\/\/.*sqlite:\/\/.*postgres:\/\/.*redis:\/\//,
    );
    await rejectsWith(openJobBoard('no-scheme-at-all'), 'INVALID_ARGUMENT', /no scheme/);
    await rejectsWith(openJobBoard('sqlite://'), 'INVALID_ARGUMENT', /names no file/);
    // Without the two slashes the rest is not a path; the jobboard once opened "o.db" for it.
    await rejectsWith(openJobBoard('sqlite:foo.db'), 'INVALID_ARGUMENT', /names no file/);
    await rejectsWith(
      openJobBoard(`sqlite://${join(dir, 'x.db')}?pollMs=soon`),
      'INVALID_ARGUMENT',
      /pollMs=soon/,
    );
    await rejectsWith(
      openJobBoard('postgres://user:secret@[bad'),
      'INVALID_ARGUMENT',
      /user:\*\*\*@/,
    );
  });
});
