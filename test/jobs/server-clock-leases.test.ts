import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { JobBoardOptions } from '../../src/jobs/guarded-job-board.ts';
import type { JobBoard } from '../../src/jobs/ports.ts';
import { openPostgresJobBoard } from '../../src/jobs/postgres/postgres-job-board.ts';
import { openRedisJobBoard } from '../../src/jobs/redis/redis-job-board.ts';
import { jobSpec, rejectsWith } from '../../src/testing/jobboard-contract.ts';
import {
  POSTGRES_URL,
  postgresUnavailable,
  REDIS_URL,
  redisUnavailable,
  TestPrefixes,
  TestSchemas,
} from '../support/servers.ts';

const HOUR = 3_600_000;
const quiet: JobBoardOptions = { recheckMs: 60_000 };

/** A board backend on a server, and how to read that server's clock (epoch ms). */
interface ServerBackend {
  readonly name: string;
  readonly skip: string | false;
  /** Boards over one fresh board, each with its own clock. */
  open(clocks: readonly (() => number)[]): Promise<JobBoard[]>;
  serverTime(): Promise<number>;
  close(): Promise<void>;
}

const schemas = new TestSchemas();
const prefixes = new TestPrefixes();
const pgSkip = await postgresUnavailable();
const redisSkip = await redisUnavailable();
const pgClient = new pg.Client({ connectionString: POSTGRES_URL });
if (!pgSkip) await pgClient.connect();
const redis = new Redis(REDIS_URL, { lazyConnect: true });
redis.on('error', () => {});
if (!redisSkip) await redis.connect();

const backends: ServerBackend[] = [
  {
    name: 'PostgreSQL',
    skip: pgSkip,
    open: async (clocks) => {
      const schema = schemas.next();
      const boards: JobBoard[] = [];
      for (const now of clocks) {
        boards.push(await openPostgresJobBoard({ url: POSTGRES_URL, schema, now, ...quiet }));
      }
      return boards;
    },
    serverTime: async () => {
      const { rows } = await pgClient.query<{ ms: string }>(
        'SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms',
      );
      return Number(rows[0]?.ms);
    },
    close: async () => {
      await pgClient.end();
      await schemas.dropAll();
    },
  },
  {
    name: 'Redis',
    skip: redisSkip,
    open: (clocks) => {
      const prefix = prefixes.next();
      return Promise.all(
        clocks.map((now) => openRedisJobBoard({ url: REDIS_URL, prefix, now, ...quiet })),
      );
    },
    serverTime: async () => {
      const [seconds, micros] = await redis.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    },
    close: async () => {
      await prefixes.dropAll();
      redis.disconnect();
    },
  },
];
after(async () => {
  for (const backend of backends) if (!backend.skip) await backend.close();
});

for (const backend of backends) {
  describe(`${backend.name} jobboard leases on the server's clock`, { skip: backend.skip }, () => {
    it('refuses a takeover or trash by a claimer whose clock runs an hour fast', async () => {
      const boards = await backend.open([Date.now, () => Date.now() + HOUR]);
      const [honest, fast] = boards as [JobBoard, JobBoard];
      try {
        const job = await honest.post(jobSpec('held'));
        const held = await honest.claim({ owner: 'honest', ttlMs: 30_000 });
        assert.ok(held);
        assert.equal(await fast.claim({ owner: 'fast', ttlMs: 30_000 }), undefined);
        await rejectsWith(fast.trash(job.id), 'JOB_CLAIMED');
        assert.equal((await honest.get(job.id))?.owner, 'honest');
        await honest.consume(held.claim, { state: 'SUCCESS' });
      } finally {
        await Promise.all(boards.map((board) => board.close()));
      }
    });

    it("stamps claims, renewals and conductors with the server's time, whatever the caller's clock says", async () => {
      const boards = await backend.open([() => Date.now() - HOUR, () => Date.now() + HOUR]);
      const [slow, fast] = boards as [JobBoard, JobBoard];
      try {
        await slow.post(jobSpec('stamped'));
        const before = await backend.serverTime();
        const claimed = await slow.claim({ owner: 'slow', ttlMs: 5000 });
        const renewed = claimed && (await fast.extend(claimed.claim, 7000));
        await fast.heartbeatConductor({ name: 'fast', ttlMs: 2000 });
        const afterwards = await backend.serverTime();
        assert.ok(claimed && renewed);
        const within = (value: number, low: number, high: number, what: string): void =>
          assert.ok(low <= value && value <= high, `${what} ${value} is not in [${low}, ${high}]`);
        within(claimed.claim.expiresAt, before + 5000, afterwards + 5000, 'claim expiry');
        within(claimed.job.updatedAt, before, afterwards, 'claim time');
        within(renewed.expiresAt, before + 7000, afterwards + 7000, 'renewed expiry');
        const [conductor] = await slow.listConductors();
        assert.equal(conductor?.name, 'fast');
        within(conductor?.lastSeenAt ?? 0, before, afterwards, 'conductor last seen');
        assert.equal(conductor?.expiresAt, (conductor?.lastSeenAt ?? 0) + 2000);
      } finally {
        await Promise.all(boards.map((board) => board.close()));
      }
    });
  });
}
