import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_JOB_NAME_LENGTH } from '../../src/core/names.ts';
import { createMemoryJobBoard } from '../../src/jobs/memory/memory-job-board.ts';
import type { JobEvent, JobSpec } from '../../src/jobs/model.ts';
import type { JobBoard } from '../../src/jobs/ports.ts';
import { openPostgresJobBoard } from '../../src/jobs/postgres/postgres-job-board.ts';
import { openRedisJobBoard } from '../../src/jobs/redis/redis-job-board.ts';
import { createSqliteJobBoard } from '../../src/jobs/sqlite/sqlite-job-board.ts';
import { eventually, jobSpec, rejectsWith } from '../../src/testing/jobboard-contract.ts';
import { POSTGRES_URL, REDIS_URL, testServers } from '../support/servers.ts';

const { dir, schemas, prefixes, pgSkip, redisSkip } = await testServers('job-names');

const backends: {
  name: string;
  skip: string | false;
  open: () => Promise<JobBoard>;
}[] = [
  { name: 'memory', skip: false, open: async () => createMemoryJobBoard() },
  {
    name: 'sqlite',
    skip: false,
    open: async () =>
      createSqliteJobBoard({ path: join(dir, `${Date.now()}-${Math.random()}.db`) }),
  },
  {
    name: 'postgres',
    skip: pgSkip,
    open: () =>
      openPostgresJobBoard({ url: POSTGRES_URL, schema: schemas.next(), maxConnections: 2 }),
  },
  {
    name: 'redis',
    skip: redisSkip,
    open: () => openRedisJobBoard({ url: REDIS_URL, prefix: prefixes.next() }),
  },
];

// Three UTF-8 bytes per character: the longest allowed name is 3 KB on the wire.
const LONGEST = '€'.repeat(MAX_JOB_NAME_LENGTH);

for (const backend of backends) {
  describe(`job names and specs on ${backend.name}`, { skip: backend.skip }, () => {
    it('refuses a spec that is not an object with INVALID_ARGUMENT, changing nothing', async () => {
      const board = await backend.open();
      try {
        for (const spec of [null, undefined, 42, 'resize', [jobSpec('a')]]) {
          await rejectsWith(
            board.post(spec as unknown as JobSpec),
            'INVALID_ARGUMENT',
            /A job spec must be an object like \{ name, flow: \{ name, version \}, store \}, got /,
          );
        }
        assert.deepEqual((await board.list()).items, []);
      } finally {
        await board.close();
      }
    });

    it('refuses names with control characters or over the limit before writing anything', async () => {
      const board = await backend.open();
      try {
        const refused: [JobSpec, RegExp][] = [
          [
            jobSpec('nul\u0000name'),
            /job name "nul\\u0000name" contains control character U\+0000 at position 3/,
          ],
          [jobSpec('tab\there'), /control character U\+0009/],
          [
            jobSpec('x'.repeat(MAX_JOB_NAME_LENGTH + 1)),
            /is 1025 characters long; the limit is 1024/,
          ],
          [jobSpec('lone\udc00'), /lone surrogate/],
          [
            { name: 'a', flow: { name: 'f\u0000', version: '1' } },
            /flow name of job "a" "f\\u0000"/,
          ],
          [{ name: 'a', flow: { name: 'f', version: 'v'.repeat(257) } }, /limit is 256/],
          [jobSpec('a', { idempotencyKey: 'k\u0000' }), /idempotency key "k\\u0000"/],
        ];
        for (const [spec, pattern] of refused)
          await rejectsWith(board.post(spec), 'INVALID_ARGUMENT', pattern);
        await rejectsWith(
          board.claim({ owner: 'o\u0000', ttlMs: 1000 }),
          'INVALID_ARGUMENT',
          /claim owner/,
        );
        await rejectsWith(board.get('id\u0000'), 'INVALID_ARGUMENT', /job id/);
        assert.deepEqual((await board.list()).items, []);
      } finally {
        await board.close();
      }
    });

    it('stores and announces the longest allowed name exactly (it stays out of any payload limit)', async () => {
      const board = await backend.open();
      try {
        const events: JobEvent[] = [];
        const unsubscribe = await board.subscribe((event) => void events.push(event));
        const job = await board.post(jobSpec(LONGEST, { idempotencyKey: LONGEST }));
        assert.equal((await board.get(job.id))?.name, LONGEST);
        await eventually(() => events.some((e) => e.type === 'posted' && e.jobId === job.id));
        const claimed = await board.claim({
          owner: 'c'.repeat(MAX_JOB_NAME_LENGTH),
          ttlMs: 10_000,
        });
        assert.equal(claimed?.job.id, job.id);
        await eventually(() => events.some((e) => e.type === 'claimed' && e.jobId === job.id));
        unsubscribe();
      } finally {
        await board.close();
      }
    });
  });
}
