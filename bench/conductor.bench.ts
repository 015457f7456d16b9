/**
 * Conductor benchmarks (issue #4, "Speed"): conductor processes (bench/conductor-child.ts) on a
 * shared board and run store; one JSON line per backend and workload.
 *
 *   node --import tsx bench/conductor.bench.ts                 # sqlite, postgres, redis
 *   node --import tsx bench/conductor.bench.ts redis sqlite    # some of them
 *   node --import tsx bench/conductor.bench.ts --concurrency 1,16 --workloads throughput
 *
 * `--concurrency` lists each conductor's concurrency for the throughput workload (default 4);
 * `--workloads` picks some of `throughput`, `latency` and `takeover` (default all).
 *
 * - "1000-jobs-3-noop-tasks-2-conductors(c=C)": 1,000 jobs posted, then two conductor processes
 *   (concurrency C each) started. `wall_ms` runs from the first `claimed` event to the last
 *   `completed` event (the children's clocks, µs precision); `per_second` = jobs / that. The
 *   side-effect log must hold exactly 3,000 task executions, no job/task twice, and 1,000
 *   `completed` events, each job once; `checked` says whether it did.
 * - "takeover-after-sigkill(ttl=T,recheck=R)": two idle conductors; a job is posted, and its
 *   owner is SIGKILLed while it is in the slow task "two" (`lease_left_ms`: what was left of its
 *   claim at the kill); `wall_ms` is the median time from the kill to the first execution of
 *   "two" by the other conductor, `claim_ms` to its claim. The killed one is then replaced.
 * - "post-to-claim-latency(idle)": the two conductors of the first workload, idle, their boards'
 *   recheck and claim wait set to 60 s so only a notification wakes them; one job at a time,
 *   from the start of `post` in this process to the `claimed` event in a child. `wall_ms` is
 *   the median, `p90_ms` the 90th percentile, `post_ms` the median `post` round trip.
 * `peak_rss_mb` is the largest peak RSS of the conductor processes that stopped gracefully.
 * Servers: TASKFLOW_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test, fresh
 * schemas dropped after), TASKFLOW_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0, a fresh
 * key prefix deleted after). A backend whose server is unreachable is reported as skipped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type JobBoard, openJobBoard } from '../src/index.ts';
import { checkExecutions, readExecutions } from '../test/support/conductors.ts';
import { median } from './support.ts';

const POSTGRES_URL =
  process.env.TASKFLOW_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TASKFLOW_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const CHILD = fileURLToPath(new URL('./conductor-child.ts', import.meta.url));
const FLOW = { name: 'noop3', version: '1' };
const JOBS = 1000;
const { values: flags, positionals: only } = parseArgs({
  allowPositionals: true,
  options: {
    concurrency: { type: 'string', default: '4' },
    workloads: { type: 'string', default: 'throughput,latency,takeover' },
  },
});
const CONCURRENCIES = flags.concurrency.split(',').map(Number);
const WORKLOADS = new Set(flags.workloads.split(','));
const LATENCY_POSTS = 30;
const TAKEOVERS = 3;
const TAKEOVER_CONFIGS = [
  { ttlMs: 1000, recheckMs: 1000 },
  { ttlMs: 300, recheckMs: 1000 },
  { ttlMs: 300, recheckMs: 100 },
] as const;
const tag = `${process.pid}_${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'taskflow-conductor-bench-'));

interface Urls {
  readonly board: string;
  readonly runs: string;
}

interface Backend {
  readonly system: string;
  /** Fresh board and run store URLs for one workload. */
  urls(workload: string): Urls;
  /** Removes everything the URLs handed out so far. */
  dispose(): Promise<void>;
}

function sqliteBackend(): Backend {
  return {
    system: 'taskflow-ts/conductor-sqlite(pollMs=25)',
    urls: (workload) => ({
      board: `sqlite://${join(dir, `${workload}-jobs.db`)}`,
      runs: `sqlite://${join(dir, `${workload}-runs.db`)}`,
    }),
    dispose: async () => {},
  };
}

function postgresBackend(system: string, redisBoard: boolean): Backend {
  const schemas: string[] = [];
  const prefixes: string[] = [];
  return {
    system,
    urls: () => {
      const schema = `tf_cond_bench_${tag}_${schemas.length + 1}`;
      schemas.push(schema);
      const runs = `${POSTGRES_URL}?schema=${schema}`;
      if (!redisBoard) return { board: runs, runs };
      const prefix = `tf-cond-bench:${tag}:${prefixes.length + 1}`;
      prefixes.push(prefix);
      return { board: `${REDIS_URL}?prefix=${encodeURIComponent(prefix)}`, runs };
    },
    dispose: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      for (const schema of schemas.splice(0)) {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
      await client.end();
      if (prefixes.length === 0) return;
      const redis = new Redis(REDIS_URL);
      for (const prefix of prefixes.splice(0)) {
        for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 })) {
          if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
        }
      }
      redis.disconnect();
    },
  };
}

/** A conductor process and every line it printed so far. */
interface ChildConductor {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<void>;
}

async function startConductor(name: string, env: Record<string, string>): Promise<ChildConductor> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ...env, NAME: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (buffered + chunk).split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => lines.push(`stderr ${chunk}`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const conductor = { name, child, lines, exited };
  try {
    await until(`${name} to start`, 60_000, () => lines.includes('ready'), exited);
  } catch (error) {
    throw new Error(`${String(error)}; it printed: ${lines.join(' | ').slice(0, 600)}`);
  }
  return conductor;
}

/** Polls `done` every 2 ms; measured times come from the children's stamps, not from here. */
async function until(
  what: string,
  timeoutMs: number,
  done: () => boolean,
  exited?: Promise<void>,
): Promise<void> {
  let gone = false;
  void exited?.then(() => {
    gone = true;
  });
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (gone) throw new Error(`the conductor exited while waiting for ${what}`);
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(2);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const stamp = (): number => performance.timeOrigin + performance.now();

/** `<stamp> <type> <job>` lines of the given type, as [stamp, job]. */
function events(conductors: readonly ChildConductor[], type: string): [number, string][] {
  return conductors.flatMap((c) =>
    c.lines
      .map((line) => line.split(' '))
      .filter((parts) => parts[1] === type)
      .map((parts): [number, string] => [Number(parts[0]), parts[2] ?? '']),
  );
}

async function stopAll(conductors: readonly ChildConductor[]): Promise<number> {
  for (const c of conductors) c.child.kill('SIGTERM');
  await Promise.all(conductors.map((c) => c.exited));
  const rss = conductors.flatMap((c) =>
    c.lines.filter((l) => l.startsWith('rss ')).map((l) => Number(l.slice(4))),
  );
  return Math.max(0, ...rss);
}

function problems(conductors: readonly ChildConductor[]): string[] {
  return conductors.flatMap((c) =>
    c.lines
      .filter((l) => /^(stderr|\S+ (error|lost|abandoned) )/.test(l))
      .map((l) => `${c.name}: ${l.slice(0, 300)}`),
  );
}

function envFor(
  urls: Urls,
  effects: string,
  concurrency: number,
  extra: Record<string, string>,
): Record<string, string> {
  return {
    BOARD_URL: urls.board,
    RUNS_URL: urls.runs,
    EFFECTS: effects,
    CONCURRENCY: String(concurrency),
    ...extra,
  };
}

/**
 * Workload 1 when `throughput` is on, then workload 3 on the same (by then idle) conductors
 * when `latency` is on.
 */
async function throughputAndLatency(backend: Backend, concurrency: number): Promise<void> {
  const urls = backend.urls(`throughput-c${concurrency}`);
  const effects = join(dir, `${backend.system.replace(/\W+/g, '-')}-c${concurrency}.log`);
  writeFileSync(effects, '');
  const board = await openJobBoard(urls.board);
  const conductors: ChildConductor[] = [];
  try {
    const jobs: string[] = [];
    if (WORKLOADS.has('throughput')) {
      for (let i = 0; i < JOBS; i += 1) {
        jobs.push((await board.post({ name: `j${i}`, flow: FLOW, store: { job: `j${i}` } })).id);
      }
    }
    const env = envFor(urls, effects, concurrency, {
      TTL_MS: '10000',
      RECHECK_MS: '60000',
      CLAIM_WAIT_MS: '60000',
    });
    conductors.push(...(await Promise.all(['a', 'b'].map((n) => startConductor(n, env)))));
    const result = jobs.length > 0 && (await throughput(backend, board, jobs, conductors, effects));
    const rss = WORKLOADS.has('latency') ? undefined : await stopAll(conductors);
    if (result)
      print({ ...result, workload: `${result.workload}(c=${concurrency})`, peak_rss_mb: rss });
    if (WORKLOADS.has('latency')) await latency(backend, board, conductors);
  } finally {
    for (const c of conductors) c.child.kill('SIGKILL');
    await board.close();
  }
}

/** Waits for every posted job to complete, and checks each ran once. */
async function throughput(
  backend: Backend,
  board: JobBoard,
  jobs: readonly string[],
  conductors: readonly ChildConductor[],
  effects: string,
): Promise<Record<string, unknown> & { workload: string }> {
  await until(`${JOBS} completions`, 180_000, () => events(conductors, 'completed').length >= JOBS);
  const claims = events(conductors, 'claimed');
  const completions = events(conductors, 'completed');
  const first = Math.min(...claims.map(([at]) => at));
  const last = Math.max(...completions.map(([at]) => at));
  const wall = last - first;
  const firstClaims = conductors.map((c) => Math.min(...events([c], 'claimed').map(([at]) => at)));
  const executions = readExecutions(effects);
  const perTask = new Map<string, number>();
  for (const e of executions) {
    perTask.set(`${e.job}/${e.task}`, (perTask.get(`${e.job}/${e.task}`) ?? 0) + 1);
  }
  const perJob = new Map<string, number>();
  for (const [, job] of completions) perJob.set(job, (perJob.get(job) ?? 0) + 1);
  let checked = 'ok';
  try {
    checkExecutions(executions, new Map());
  } catch (error) {
    checked = String(error).slice(0, 200);
  }
  let notComplete = 0;
  for (const job of jobs) if ((await board.get(job))?.state !== 'COMPLETE') notComplete += 1;
  return {
    system: backend.system,
    workload: `${JOBS}-jobs-3-noop-tasks-2-conductors`,
    n: JOBS,
    wall_ms: round(wall),
    per_item_us: round((wall * 1000) / JOBS),
    per_second: Math.round(JOBS / (wall / 1000)),
    executions: executions.length,
    tasks_run_twice: [...perTask.values()].filter((count) => count > 1).length,
    completions: completions.length,
    jobs_completed_twice: [...perJob.values()].filter((count) => count > 1).length,
    claims: claims.length,
    not_complete_on_board: notComplete,
    jobs_per_conductor: conductors.map((c) => events([c], 'completed').length).join('/'),
    start_skew_ms: round(Math.max(...firstClaims) - Math.min(...firstClaims)),
    checked,
    problems: problems(conductors).slice(0, 3),
  };
}

/** Workload 3: one job at a time to idle conductors; stops them after. */
async function latency(
  backend: Backend,
  board: JobBoard,
  conductors: readonly ChildConductor[],
): Promise<void> {
  const latencies: number[] = [];
  const posts: number[] = [];
  for (let i = 0; i < LATENCY_POSTS; i += 1) {
    await sleep(30);
    const started = stamp();
    const job = await board.post({ name: `idle-${i}`, flow: FLOW, store: { job: `idle-${i}` } });
    posts.push(stamp() - started);
    await until(`job idle-${i} claimed`, 30_000, () =>
      events(conductors, 'claimed').some(([, id]) => id === job.id),
    );
    const claimed = events(conductors, 'claimed').find(([, id]) => id === job.id);
    latencies.push((claimed?.[0] ?? Number.NaN) - started);
    await until(`job idle-${i} completed`, 30_000, () =>
      events(conductors, 'completed').some(([, id]) => id === job.id),
    );
  }
  const rss = await stopAll(conductors);
  const sorted = [...latencies].sort((a, b) => a - b);
  print({
    system: backend.system,
    workload: 'post-to-claim-latency(idle,recheck=60s)',
    n: LATENCY_POSTS,
    wall_ms: round(median(latencies)),
    per_item_us: round(median(latencies) * 1000),
    p90_ms: round(sorted[Math.floor(0.9 * sorted.length)] ?? Number.NaN),
    max_ms: round(sorted.at(-1) ?? Number.NaN),
    post_ms: round(median(posts)),
    peak_rss_mb: rss,
  });
}

/** Workload 2 for one lease TTL and recheck interval. */
async function takeover(backend: Backend, ttlMs: number, recheckMs: number): Promise<void> {
  const workload = `takeover-ttl${ttlMs}-recheck${recheckMs}`;
  const urls = backend.urls(workload);
  const effects = join(dir, `${backend.system.replace(/\W+/g, '-')}-${workload}.log`);
  writeFileSync(effects, '');
  const env = envFor(urls, effects, 1, {
    TTL_MS: String(ttlMs),
    RECHECK_MS: String(recheckMs),
    SLOW_MS: '60000',
  });
  const board = await openJobBoard(urls.board);
  const live = new Map<string, ChildConductor>();
  const all: ChildConductor[] = [];
  const spawnOne = async (name: string): Promise<void> => {
    const c = await startConductor(name, env);
    live.set(name, c);
    all.push(c);
  };
  const starts = (job: string, task: string) =>
    readFileSync(effects, 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((p) => p[1] === 'start' && p[2] === job && p[3] === task);
  const toExecution: number[] = [];
  const toClaim: number[] = [];
  const leaseLeft: number[] = [];
  try {
    await Promise.all([spawnOne('t1'), spawnOne('t2')]);
    for (let i = 0; i < TAKEOVERS; i += 1) {
      const name = `k${i}`;
      const job = await board.post({ name, flow: FLOW, store: { job: name } });
      await until(`${name} in its slow task`, 30_000, () => starts(name, 'two').length > 0);
      const owner = live.get(starts(name, 'two')[0]?.[4] ?? '');
      if (owner === undefined) throw new Error(`no live owner for ${name}`);
      // Kill at a different point of the heartbeat cycle each time.
      await sleep(((i + 1) * ttlMs) / (3 * (TAKEOVERS + 1)));
      const lease = (await board.get(job.id))?.leaseExpiresAt ?? Number.NaN;
      const killedAt = stamp();
      owner.child.kill('SIGKILL');
      live.delete(owner.name);
      await until(`${name} taken over`, 60_000, () =>
        starts(name, 'two').some((p) => p[4] !== owner.name),
      );
      const again = starts(name, 'two').find((p) => p[4] !== owner.name);
      const heir = live.get(again?.[4] ?? '');
      const claimedAt = events(heir ? [heir] : [], 'claimed').find(([, id]) => id === job.id);
      toExecution.push(Number(again?.[0]) - killedAt);
      toClaim.push((claimedAt?.[0] ?? Number.NaN) - killedAt);
      leaseLeft.push(lease - killedAt);
      await board.wait(job.id, { timeoutMs: 30_000 });
      await spawnOne(`t${all.length + 1}`);
    }
    const rss = await stopAll([...live.values()]);
    print({
      system: backend.system,
      workload: `takeover-after-sigkill(ttl=${ttlMs},recheck=${recheckMs})`,
      n: TAKEOVERS,
      wall_ms: round(median(toExecution)),
      per_item_us: round(median(toExecution) * 1000),
      claim_ms: round(median(toClaim)),
      runs_ms: toExecution.map(round),
      lease_left_ms: leaseLeft.map(round),
      peak_rss_mb: rss,
      problems: problems(all).slice(0, 3),
    });
  } finally {
    for (const c of live.values()) c.child.kill('SIGKILL');
    await board.close();
  }
}

function print(result: Record<string, unknown>): void {
  const line = { ...result, load1: round(loadavg()[0] ?? 0) };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function reachable(): Promise<{ postgres: boolean; redis: boolean }> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  const postgres = await client.connect().then(
    () => true,
    () => false,
  );
  await client.end().catch(() => undefined);
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => {});
  const redisUp = await redis.connect().then(
    () => true,
    () => false,
  );
  redis.disconnect();
  return { postgres, redis: redisUp };
}

const up = await reachable();
const backends: Record<string, [Backend, string | false]> = {
  sqlite: [sqliteBackend(), false],
  postgres: [
    postgresBackend('taskflow-ts/conductor-postgres', false),
    !up.postgres && `PostgreSQL at ${POSTGRES_URL} is unreachable`,
  ],
  redis: [
    postgresBackend('taskflow-ts/conductor-redis(runs: postgres)', true),
    (!up.redis && `Redis at ${REDIS_URL} is unreachable`) ||
      (!up.postgres && `PostgreSQL at ${POSTGRES_URL} is unreachable`),
  ],
};
try {
  for (const [name, [backend, unavailable]] of Object.entries(backends)) {
    if (only.length > 0 && !only.includes(name)) continue;
    try {
      if (unavailable) throw new Error(unavailable);
      if (WORKLOADS.has('throughput') || WORKLOADS.has('latency')) {
        for (const concurrency of CONCURRENCIES) await throughputAndLatency(backend, concurrency);
      }
      if (WORKLOADS.has('takeover')) {
        for (const { ttlMs, recheckMs } of TAKEOVER_CONFIGS) {
          await takeover(backend, ttlMs, recheckMs);
        }
      }
    } catch (error) {
      print({
        system: backend.system,
        workload: 'skipped',
        n: 0,
        wall_ms: 0,
        per_item_us: 0,
        reason: String(error),
      });
    } finally {
      await backend.dispose();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
