import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createMemoryJobBoard } from '../../src/jobs/memory/memory-job-board.ts';
import type { ClaimedJob } from '../../src/jobs/model.ts';
import type { JobBoard } from '../../src/jobs/ports.ts';
import { openPostgresJobBoard } from '../../src/jobs/postgres/postgres-job-board.ts';
import { openRedisJobBoard } from '../../src/jobs/redis/redis-job-board.ts';
import { createSqliteJobBoard } from '../../src/jobs/sqlite/sqlite-job-board.ts';
import { jobSpec } from '../../src/testing/jobboard-contract.ts';
import { POSTGRES_URL, REDIS_URL, testServers } from '../support/servers.ts';

// A dead owner's claim sends no event when it expires. A claimer waiting for work must still
// take the job over at that moment: it sleeps until the earliest lease expiry the board knows,
// not until its next recheck. Here the recheck is a minute, so only that wake-up can claim the
// job before the test gives up waiting.

const { dir, schemas, prefixes, pgSkip, redisSkip } = await testServers('claim-at-expiry');
const RECHECK_MS = 60_000;
const GIVE_UP_MS = 15_000;
const T0 = 1_700_000_000_000;

interface Backend {
  readonly name: string;
  readonly skip: string | false;
  /** True when lease times are the server's clock; otherwise the test's `now` is the clock. */
  readonly serverClock: boolean;
  open(now: () => number): Promise<JobBoard>;
}

const backends: Backend[] = [
  {
    name: 'memory',
    skip: false,
    serverClock: false,
    open: async (now) => createMemoryJobBoard({ recheckMs: RECHECK_MS, now }),
  },
  {
    name: 'sqlite',
    skip: false,
    serverClock: false,
    open: async (now) =>
      createSqliteJobBoard({ path: join(dir, `${Date.now()}.db`), recheckMs: RECHECK_MS, now }),
  },
  {
    name: 'postgres',
    skip: pgSkip,
    serverClock: true,
    open: (now) =>
      openPostgresJobBoard({
        url: POSTGRES_URL,
        schema: schemas.next(),
        recheckMs: RECHECK_MS,
        now,
      }),
  },
  {
    name: 'redis',
    skip: redisSkip,
    serverClock: true,
    open: (now) =>
      openRedisJobBoard({ url: REDIS_URL, prefix: prefixes.next(), recheckMs: RECHECK_MS, now }),
  },
];

function giveUp(): { promise: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`no takeover within ${GIVE_UP_MS} ms: the claimer slept until its recheck`),
        ),
      GIVE_UP_MS,
    );
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

for (const backend of backends) {
  describe(`claim at lease expiry on ${backend.name}`, { skip: backend.skip }, () => {
    it('wakes a waiting claimer when a dead owner’s lease expires, without an event or a recheck', async () => {
      let time = T0;
      const board = await backend.open(() => time);
      const deadline = giveUp();
      try {
        const job = await board.post(jobSpec('orphan'));
        const dead = await board.claim({ owner: 'dead', ttlMs: 300 });
        assert.equal(dead?.job.id, job.id);
        const waiting = board.claim({ owner: 'heir', ttlMs: 10_000, waitMs: RECHECK_MS });
        // On a test clock the lease runs out when the test moves the clock past it.
        if (!backend.serverClock) setTimeout(() => (time += 301), 50);
        const heir = (await Promise.race([waiting, deadline.promise])) as ClaimedJob | undefined;
        assert.equal(heir?.job.id, job.id);
        assert.equal(heir?.claim.token, (dead?.claim.token ?? 0) + 1);
        assert.equal(heir?.job.attempts, 1, 'the expired claim counts as a failed attempt');
      } finally {
        deadline.cancel();
        await board.close();
      }
    });

    it('waits out waitMs and returns nothing when no job is posted and none is claimed', async () => {
      const board = await backend.open(() => T0);
      try {
        assert.equal(await board.claim({ owner: 'idle', ttlMs: 1000, waitMs: 200 }), undefined);
      } finally {
        await board.close();
      }
    });
  });
}
