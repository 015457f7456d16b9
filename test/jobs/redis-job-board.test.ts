import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { openRedisJobBoard } from '../../src/jobs/redis/redis-job-board.ts';
import { jobSpec, rejectsWith, runJobBoardContract } from '../../src/testing/jobboard-contract.ts';
import { REDIS_URL, redisUnavailable, TestPrefixes } from '../support/servers.ts';

const skip = await redisUnavailable();
const prefixes = new TestPrefixes();
after(async () => {
  if (!skip) await prefixes.dropAll();
});

runJobBoardContract({
  name: 'redis',
  skip,
  serverClock: true,
  open: async ({ now, count }) => {
    const prefix = prefixes.next();
    return Promise.all(
      Array.from({ length: count }, () =>
        openRedisJobBoard({ url: REDIS_URL, prefix, now, recheckMs: 60_000 }),
      ),
    );
  },
});

describe('Redis jobboard', { skip }, () => {
  it('expires real leases by comparing times, keeping the job: it is taken over, never lost', async () => {
    const prefix = prefixes.next();
    const [a, b] = await Promise.all([
      openRedisJobBoard({ url: REDIS_URL, prefix }),
      openRedisJobBoard({ url: REDIS_URL, prefix }),
    ]);
    try {
      const job = await a.post(jobSpec('short'));
      const first = await a.claim({ owner: 'a', ttlMs: 150 });
      assert.ok(first);
      assert.equal(await b.claim({ owner: 'b', ttlMs: 150 }), undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const redis = new Redis(REDIS_URL);
      assert.equal(await redis.ttl(`${prefix}:job:${job.id}`), -1, 'job keys never expire');
      redis.disconnect();
      const second = await b.claim({ owner: 'b', ttlMs: 5000 });
      assert.equal(second?.claim.token, 2);
      await rejectsWith(a.consume(first.claim, { state: 'SUCCESS' }), 'FENCED');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('deletes dead conductors from its conductors hash when it lists them', async () => {
    const prefix = prefixes.next();
    const board = await openRedisJobBoard({ url: REDIS_URL, prefix });
    const redis = new Redis(REDIS_URL);
    try {
      await board.heartbeatConductor({ name: 'dead', ttlMs: 50 });
      await board.heartbeatConductor({ name: 'alive', ttlMs: 60_000 });
      await new Promise((resolve) => setTimeout(resolve, 120));
      assert.deepEqual(
        (await board.listConductors()).map((conductor) => conductor.name),
        ['alive'],
      );
      assert.deepEqual(await redis.hkeys(`${prefix}:conductors`), ['alive']);
    } finally {
      redis.disconnect();
      await board.close();
    }
  });

  it('keeps boards with different prefixes apart', async () => {
    const [a, b] = await Promise.all([
      openRedisJobBoard({ url: REDIS_URL, prefix: prefixes.next() }),
      openRedisJobBoard({ url: REDIS_URL, prefix: prefixes.next() }),
    ]);
    try {
      await a.post(jobSpec('mine'));
      assert.equal(await b.claim({ owner: 'b', ttlMs: 1000 }), undefined);
      assert.equal((await b.list()).items.length, 0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('reports an unreachable server as BOARD_UNAVAILABLE', async () => {
    await rejectsWith(
      openRedisJobBoard({ url: 'redis://127.0.0.1:1/0' }),
      'BOARD_UNAVAILABLE',
      /retry with backoff/,
    );
  });
});
