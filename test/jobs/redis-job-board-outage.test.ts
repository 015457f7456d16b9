import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { isJobBoardError } from '../../src/jobs/job-board-error.ts';
import type { JobClaim } from '../../src/jobs/model.ts';
import type { JobBoard } from '../../src/jobs/ports.ts';
import { openRedisJobBoard } from '../../src/jobs/redis/redis-job-board.ts';
import { eventually, jobSpec, rejectsWith } from '../../src/testing/jobboard-contract.ts';
import { PrivateRedis } from '../support/private-redis.ts';

const skip = PrivateRedis.unavailable();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A claim as its holder saw it: `returnedAt` is the server's time just after it came back. */
interface SeenClaim extends JobClaim {
  readonly returnedAt: number;
  /** The server's time just before the holder gave it back; infinite when it was fenced. */
  readonly releasedAt: number;
}

describe('Redis jobboard through an outage', { skip }, () => {
  let redis: PrivateRedis;
  let admin: Redis;
  let prefixes = 0;
  const prefix = (): string => {
    prefixes += 1;
    return `outage-${prefixes}`;
  };

  before(async () => {
    redis = await PrivateRedis.create();
    admin = new Redis(redis.url);
    admin.on('error', () => {});
  });
  after(async () => {
    admin?.disconnect();
    await redis?.destroy();
  });

  /** The server's clock, and how long asking took (a long round trip says nothing about "now"). */
  const serverTime = async (): Promise<{ at: number; roundTripMs: number }> => {
    const started = performance.now();
    const [seconds, micros] = await admin.time();
    return {
      at: Number(seconds) * 1000 + Math.floor(Number(micros) / 1000),
      roundTripMs: performance.now() - started,
    };
  };

  it('never returns a claim already expired, and gives each job to one claim at a time, while Redis is paused and restarted', async () => {
    const board = { prefix: prefix(), ttlMs: 500 };
    const boards: JobBoard[] = await Promise.all(
      [0, 1, 2].map(() =>
        openRedisJobBoard({ url: redis.url, prefix: board.prefix, recheckMs: 100 }),
      ),
    );
    const [poster] = boards;
    assert.ok(poster);
    for (let i = 0; i < 12; i += 1) await poster.post(jobSpec(`job-${i}`));

    const claims: SeenClaim[] = [];
    const errors: unknown[] = [];
    let unjudged = 0;
    let running = true;
    const backoff = { ms: 10 };
    const failed = async (error: unknown): Promise<void> => {
      errors.push(error);
      await sleep(backoff.ms);
      backoff.ms = Math.min(backoff.ms * 2, 200);
    };
    // Like conductors, each claimer holds one job at a time for a while, then gives it back
    // (without extending: leases may expire under an outage), so some jobs are always free.
    const claimer = async (on: JobBoard, owner: string, waitMs: number): Promise<void> => {
      while (running) {
        let claimed: Awaited<ReturnType<JobBoard['claim']>>;
        try {
          claimed = await on.claim({ owner, ttlMs: board.ttlMs, waitMs });
          backoff.ms = 10;
        } catch (error) {
          await failed(error);
          continue;
        }
        if (claimed === undefined) {
          await sleep(10);
          continue;
        }
        const returned = await serverTime();
        await sleep(50 + Math.random() * 150);
        const released = await serverTime();
        let releasedAt = released.at;
        try {
          await on.abandon(claimed.claim, { reason: 'done holding', countAttempt: false });
        } catch (error) {
          if (isJobBoardError(error, 'FENCED')) releasedAt = Number.POSITIVE_INFINITY;
          else await failed(error);
        }
        if (returned.roundTripMs > 50 || released.roundTripMs > 50) unjudged += 1;
        else claims.push({ ...claimed.claim, returnedAt: returned.at, releasedAt });
      }
    };
    // Claims issued while the server is down, retried with backoff until one is granted, then
    // held to the end.
    const burst = (name: string): Promise<void>[] =>
      boards.map(async (on, i) => {
        for (let tries = 0; running && tries < 100; tries += 1) {
          try {
            const claimed = await on.claim({ owner: `${name}-${i}`, ttlMs: board.ttlMs });
            const returned = await serverTime();
            if (claimed === undefined) return;
            if (returned.roundTripMs > 50) unjudged += 1;
            else {
              const releasedAt = Number.POSITIVE_INFINITY;
              claims.push({ ...claimed.claim, returnedAt: returned.at, releasedAt });
            }
            return;
          } catch (error) {
            await failed(error);
          }
        }
      });
    const claimers = boards.flatMap((on, i) => [
      claimer(on, `c${i}-poll`, 0),
      claimer(on, `c${i}-wait`, 200),
    ]);
    const bursts: Promise<void>[] = [];
    try {
      await sleep(700);
      redis.pause(); // claims sent now wait in the server's socket for 3 TTLs
      bursts.push(...burst('paused'));
      await sleep(1500);
      redis.resume();
      await sleep(700);
      await redis.stop(); // claims sent now must fail fast, not wait in a client-side queue
      bursts.push(...burst('stopped'));
      await sleep(1000);
      await redis.start();
      await sleep(1500);
    } finally {
      redis.resume();
      running = false;
      await Promise.all([...claimers, ...bursts]);
      await Promise.all(boards.map((b) => b.close()));
    }

    assert.ok(claims.length > 20, `only ${claims.length} claims were judged (${unjudged} not)`);
    const expired = claims.filter((claim) => claim.expiresAt <= claim.returnedAt);
    assert.deepEqual(
      expired.map((c) => `${c.owner} token ${c.token}: ${c.returnedAt - c.expiresAt} ms late`),
      [],
      'no claim comes back already expired',
    );
    const byJob = new Map<string, SeenClaim[]>();
    for (const claim of claims) byJob.set(claim.jobId, [...(byJob.get(claim.jobId) ?? []), claim]);
    for (const [jobId, held] of byJob) {
      const ordered = held.sort((a, b) => a.token - b.token);
      for (let i = 1; i < ordered.length; i += 1) {
        const previous = ordered[i - 1] as SeenClaim;
        const next = ordered[i] as SeenClaim;
        assert.notEqual(next.token, previous.token, `job ${jobId}: token ${next.token} twice`);
        const heldUntil = Math.min(previous.expiresAt, previous.releasedAt);
        assert.ok(
          next.returnedAt >= heldUntil,
          `job ${jobId}: token ${next.token} (${next.owner}) came back ${heldUntil - next.returnedAt} ms before token ${previous.token} (${previous.owner}) ended`,
        );
      }
    }
    assert.ok(errors.length > 0, 'commands sent while Redis was down failed fast');
    for (const error of errors) {
      assert.ok(isJobBoardError(error, 'BOARD_UNAVAILABLE'), `unexpected error: ${String(error)}`);
      assert.equal(error.retryable, true);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${redis.port}`));
    }
  });

  it('names the server and the cause when Redis is down, and recovers, wake-ups included, when it is back', async () => {
    const name = prefix();
    const [a, b] = await Promise.all([
      openRedisJobBoard({ url: redis.url, prefix: name, recheckMs: 60_000 }),
      openRedisJobBoard({ url: redis.url, prefix: name, recheckMs: 60_000 }),
    ]);
    try {
      const seen: string[] = [];
      await b.subscribe((event) => seen.push(event.jobName));
      await a.post(jobSpec('before'));
      await eventually(() => seen.includes('before'));
      await redis.stop();
      await sleep(300); // reconnect attempts fail meanwhile, and are recorded
      const where = new RegExp(`Redis at 127\\.0\\.0\\.1:${redis.port} .*ECONNREFUSED`);
      await rejectsWith(a.get('any'), 'BOARD_UNAVAILABLE', where);
      await rejectsWith(a.claim({ owner: 'a', ttlMs: 1000 }), 'BOARD_UNAVAILABLE', where);
      await rejectsWith(
        openRedisJobBoard({ url: redis.url, prefix: name }),
        'BOARD_UNAVAILABLE',
        where,
      );
      await redis.start();
      await eventually(() => {
        void a.post(jobSpec('after')).catch(() => {});
        return seen.includes('after');
      }, 10_000);
      const claimed = await a.claim({ owner: 'a', ttlMs: 1000 });
      assert.equal(claimed?.job.name, 'before', 'the append-only file kept the board');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
