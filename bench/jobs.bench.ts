/**
 * Jobboard benchmarks (issue #4, "Speed"): prints one JSON line per backend and workload.
 *
 *   node --import tsx bench/jobs.bench.ts              # every backend
 *   node --import tsx bench/jobs.bench.ts postgres     # one of memory, sqlite, postgres, redis
 *
 * - "post-to-claim-latency": an idle claimer blocks in `claim({ waitMs })` on its own
 *   connection; another connection posts one job at a time, 50 times. Latency is from the
 *   start of `post` to `claim` returning the job. The boards' recheck interval is set to 60 s,
 *   so a wake-up within it comes from notifications (LISTEN/NOTIFY, pub/sub), not from
 *   polling; SQLite has no push and polls its event log every `pollMs` (25 ms by default).
 *   `wall_ms` and `per_item_us` are the median latency; `p90_ms` the 90th percentile.
 * - "claim-consume-1000-jobs-2-claimers": 1,000 jobs posted beforehand; two claimers, each
 *   with its own connection, claim and consume until the board is empty. `per_second` counts
 *   jobs claimed and consumed per second; `claimed_twice` must be 0.
 * Servers: TASKFLOW_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test, a
 * throwaway schema), TASKFLOW_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0, a throwaway
 * prefix). A backend whose server is unreachable is reported as skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createMemoryJobBoard, MemoryJobBoardState } from '../src/jobs/memory/memory-job-board.ts';
import type { JobBoard } from '../src/jobs/ports.ts';
import { openPostgresJobBoard } from '../src/jobs/postgres/postgres-job-board.ts';
import { openRedisJobBoard } from '../src/jobs/redis/redis-job-board.ts';
import { createSqliteJobBoard } from '../src/jobs/sqlite/sqlite-job-board.ts';

const POSTGRES_URL =
  process.env.TASKFLOW_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TASKFLOW_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const LATENCY_POSTS = 50;
const JOBS = 1000;
const FLOW = { name: 'bench', version: '1' };
const RECHECK_MS = 60_000;

interface Backend {
  readonly system: string;
  /** Opens `count` boards over one fresh board; `dispose` removes its data. */
  open(count: number): Promise<{ boards: JobBoard[]; dispose: () => Promise<void> }>;
}

const backends: Record<string, Backend> = {
  memory: {
    system: 'taskflow-ts/jobs-memory',
    open: async (count) => {
      const state = new MemoryJobBoardState();
      const boards = Array.from({ length: count }, () =>
        createMemoryJobBoard({ state, recheckMs: RECHECK_MS }),
      );
      return { boards, dispose: async () => {} };
    },
  },
  sqlite: {
    system: 'taskflow-ts/jobs-sqlite(pollMs=25)',
    open: async (count) => {
      const dir = mkdtempSync(join(tmpdir(), 'taskflow-jobs-bench-'));
      const path = join(dir, 'jobs.db');
      const boards = Array.from({ length: count }, () =>
        createSqliteJobBoard({ path, recheckMs: RECHECK_MS }),
      );
      return { boards, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  postgres: {
    system: 'taskflow-ts/jobs-postgres',
    open: async (count) => {
      const schema = `tf_jobs_bench_${process.pid}_${Date.now().toString(36)}`;
      const boards: JobBoard[] = [];
      for (let i = 0; i < count; i += 1) {
        boards.push(
          await openPostgresJobBoard({ url: POSTGRES_URL, schema, recheckMs: RECHECK_MS }),
        );
      }
      const dispose = async (): Promise<void> => {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      };
      return { boards, dispose };
    },
  },
  redis: {
    system: 'taskflow-ts/jobs-redis',
    open: async (count) => {
      const prefix = `tf-bench:${process.pid}:${Date.now().toString(36)}`;
      const boards = await Promise.all(
        Array.from({ length: count }, () =>
          openRedisJobBoard({ url: REDIS_URL, prefix, recheckMs: RECHECK_MS }),
        ),
      );
      const dispose = async (): Promise<void> => {
        const redis = new Redis(REDIS_URL);
        for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 })) {
          if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
        }
        redis.disconnect();
      };
      return { boards, dispose };
    },
  },
};

async function postToClaimLatency(backend: Backend): Promise<void> {
  const { boards, dispose } = await backend.open(2);
  const [poster, claimer] = boards as [JobBoard, JobBoard];
  const latencies: number[] = [];
  const started = performance.now();
  try {
    for (let i = 0; i < LATENCY_POSTS; i += 1) {
      const waiting = claimer.claim({ owner: 'idle', ttlMs: 60_000, waitMs: 10_000 });
      // Let the claimer find the board empty and go to sleep before the job arrives.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const posted = performance.now();
      await poster.post({ name: `job-${i}`, flow: FLOW });
      const claimed = await waiting;
      if (claimed === undefined) throw new Error('the idle claimer did not wake within 10 s');
      latencies.push(performance.now() - posted);
      await claimer.consume(claimed.claim, { state: 'SUCCESS' });
    }
  } finally {
    await Promise.all(boards.map((board) => board.close()));
    await dispose();
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  print({
    system: backend.system,
    workload: 'post-to-claim-latency',
    n: LATENCY_POSTS,
    wall_ms: round(median),
    per_item_us: round(median * 1000),
    p90_ms: round(quantile(sorted, 0.9)),
    total_ms: round(performance.now() - started),
  });
}

async function claimThroughput(backend: Backend): Promise<void> {
  const { boards, dispose } = await backend.open(3);
  const [poster, ...claimers] = boards as [JobBoard, JobBoard, JobBoard];
  const seen = new Map<string, number>();
  let wall: number;
  try {
    for (let i = 0; i < JOBS; i += 1)
      await poster.post({ name: `job-${i}`, flow: FLOW, priority: i % 3 });
    const started = performance.now();
    await Promise.all(
      claimers.map(async (board, index) => {
        for (let c = await board.claim({ owner: `c${index}`, ttlMs: 60_000 }); c; ) {
          seen.set(c.job.id, (seen.get(c.job.id) ?? 0) + 1);
          await board.consume(c.claim, { state: 'SUCCESS' });
          c = await board.claim({ owner: `c${index}`, ttlMs: 60_000 });
        }
      }),
    );
    wall = performance.now() - started;
  } finally {
    await Promise.all(boards.map((board) => board.close()));
    await dispose();
  }
  print({
    system: backend.system,
    workload: 'claim-consume-1000-jobs-2-claimers',
    n: JOBS,
    wall_ms: round(wall),
    per_item_us: round((wall * 1000) / JOBS),
    per_second: Math.round(JOBS / (wall / 1000)),
    claimed: seen.size,
    claimed_twice: [...seen.values()].filter((count) => count > 1).length,
  });
}

function print(result: Record<string, string | number>): void {
  const peak = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ ...result, peak_rss_mb: round(peak) })}\n`);
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

const only = process.argv[2];
for (const [name, backend] of Object.entries(backends)) {
  if (only !== undefined && only !== name) continue;
  try {
    await postToClaimLatency(backend);
    await claimThroughput(backend);
  } catch (error) {
    print({
      system: backend.system,
      workload: 'skipped',
      n: 0,
      wall_ms: 0,
      per_item_us: 0,
      reason: String(error),
    });
  }
}
