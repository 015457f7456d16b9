/**
 * The published comparison (issue #16): taskflow-ts against BullMQ and DBOS on the same
 * workloads, all in one run, printed as one Markdown table with ratios. Not run by CI.
 *
 *   npm install --prefix bench/peers          # once: the peers' pinned versions
 *   node --import tsx bench/peers/run.ts      # from the repository root
 *
 * - jobs (c=1, c=16): 1,000 jobs posted, then 2 worker processes of concurrency C; each job a
 *   3-step linear flow of no-op steps; `wall_ms` from the first claim to the last completion
 *   (bench/peers/harness.ts), checked: every job completed once, every step executed once, and
 *   the system's own view agrees. taskflow-ts runs bench/conductor-child.ts (the conductor
 *   benchmark's process, unchanged) on SQLite (board and run store in two files), PostgreSQL
 *   (both) and a Redis board with a PostgreSQL run store; BullMQ runs bench/peers/bullmq.ts
 *   workers, DBOS bench/peers/dbos.ts workers.
 * - linear 1,000: taskflow-ts is bench/durable.bench.ts `*-engine-linear-1000` (median of 5);
 *   BullMQ a 1,000-job flow chain, DBOS one workflow of 1,000 durable steps (bench/peers/*.ts).
 * Ratios are taskflow-ts time ÷ peer time: below 1 means taskflow-ts is faster.
 * Servers: TASKFLOW_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test, fresh
 * schemas, dropped after), TASKFLOW_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0, fresh
 * key prefixes, deleted after), TASKFLOW_BENCH_DBOS_URL (default
 * postgres://postgres@127.0.0.1:5432/dbos_bench, dropped and created again).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { openJobBoard } from '../../src/index.ts';
import * as bullmq from './bullmq.ts';
import * as dbos from './dbos.ts';
import { type JobsResult, runJobs, startWorker } from './harness.ts';

const POSTGRES_URL =
  process.env.TASKFLOW_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TASKFLOW_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const JOBS = Number(process.env.TASKFLOW_PEERS_JOBS ?? 1000); // fewer for a smoke test
const LINEAR = 1000;
const CONCURRENCIES = [1, 16] as const;
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const CONDUCTOR_CHILD = here('../conductor-child.ts');
const DURABLE_BENCH = here('../durable.bench.ts');
const BULLMQ = here('./bullmq.ts');
const DBOS = here('./dbos.ts');
const tag = `${process.pid}_${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'taskflow-peers-bench-'));
const schemas: string[] = [];
const prefixes: string[] = [];

type System = 'sqlite' | 'postgres' | 'redis' | 'bullmq' | 'dbos';
const OURS = ['sqlite', 'postgres', 'redis'] as const;
const PEERS = ['bullmq', 'dbos'] as const;
const LABEL: Record<System, string> = {
  sqlite: 'taskflow-ts SQLite',
  postgres: 'taskflow-ts PostgreSQL',
  redis: 'taskflow-ts Redis board + PG runs',
  bullmq: `BullMQ ${bullmq.VERSION}`,
  dbos: `DBOS ${dbos.VERSION}`,
};

interface Cell {
  readonly wall_ms: number;
  readonly checked: string;
  readonly per_second?: number;
}

const progress = (record: Record<string, unknown>): void => {
  process.stderr.write(`${JSON.stringify({ ...record, load1: loadavg()[0]?.toFixed(2) })}\n`);
};

/** taskflow-ts: 1,000 jobs posted to a fresh board, two bench/conductor-child.ts processes. */
async function oursJobs(system: (typeof OURS)[number], concurrency: number): Promise<JobsResult> {
  const run = `${system}-c${concurrency}`;
  let urls: { board: string; runs: string };
  if (system === 'sqlite') {
    urls = {
      board: `sqlite://${join(dir, `${run}-jobs.db`)}`,
      runs: `sqlite://${join(dir, `${run}-runs.db`)}`,
    };
  } else {
    const schema = `tf_peers_bench_${tag}_${schemas.length + 1}`;
    schemas.push(schema);
    const runs = `${POSTGRES_URL}?schema=${schema}`;
    const prefix = `tf-peers-bench:${tag}:${run}`;
    if (system === 'redis') prefixes.push(prefix);
    urls = {
      board: system === 'redis' ? `${REDIS_URL}?prefix=${encodeURIComponent(prefix)}` : runs,
      runs,
    };
  }
  const board = await openJobBoard(urls.board);
  const flow = { name: 'noop3', version: '1' };
  const ids: string[] = [];
  try {
    for (let i = 0; i < JOBS; i += 1)
      ids.push((await board.post({ name: `j${i}`, flow, store: { job: `j${i}` } })).id);
    const effects = join(dir, `${run}.log`);
    const env = {
      BOARD_URL: urls.board,
      RUNS_URL: urls.runs,
      EFFECTS: effects,
      CONCURRENCY: String(concurrency),
      TTL_MS: '10000',
      RECHECK_MS: '60000',
      CLAIM_WAIT_MS: '60000',
    };
    return await runJobs({
      jobs: JOBS,
      effects,
      start: () => Promise.all(['a', 'b'].map((n) => startWorker(n, CONDUCTOR_CHILD, [], env))),
      verify: async () => {
        let notComplete = 0;
        for (const id of ids) if ((await board.get(id))?.state !== 'COMPLETE') notComplete += 1;
        return notComplete === 0 ? undefined : `${notComplete} jobs not COMPLETE on the board`;
      },
    });
  } finally {
    await board.close();
  }
}

async function bullmqJobs(concurrency: number): Promise<JobsResult> {
  const prefix = bullmq.prefixFor(`jobs-c${concurrency}`);
  const queue = 'noop3';
  prefixes.push(prefix);
  await bullmq.postJobs(prefix, queue, JOBS);
  const effects = join(dir, `bullmq-c${concurrency}.log`);
  const args = ['worker', `${prefix}|${queue}`, String(concurrency)];
  return runJobs({
    jobs: JOBS,
    effects,
    start: () =>
      Promise.all(['a', 'b'].map((n) => startWorker(n, BULLMQ, args, { EFFECTS: effects }))),
    verify: () => bullmq.verifyJobs(prefix, queue, JOBS),
  });
}

async function dbosJobs(concurrency: number): Promise<JobsResult> {
  execFileSync(
    process.execPath,
    ['--no-deprecation', '--import', 'tsx', DBOS, 'setup', String(JOBS), String(concurrency)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const effects = join(dir, `dbos-c${concurrency}.log`);
  return runJobs({
    jobs: JOBS,
    effects,
    start: () =>
      Promise.all(
        ['a', 'b'].map((n) =>
          startWorker(n, DBOS, ['worker'], { EFFECTS: effects, NODE_OPTIONS: '--no-deprecation' }),
        ),
      ),
    verify: () => dbos.verifyJobs(JOBS),
    lastCompletion: dbos.lastCompletion,
  });
}

/** Runs a benchmark program and returns the JSON line it printed last. */
function jsonLine(args: readonly string[]): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = out.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(line) as Record<string, unknown>;
}

function linear(system: System): Cell {
  if (system === 'sqlite' || system === 'postgres') {
    const result = jsonLine(['--expose-gc', DURABLE_BENCH, `${system}-engine-linear-${LINEAR}`]);
    return { wall_ms: Number(result.wall_ms), checked: 'ok' };
  }
  const result = jsonLine([system === 'bullmq' ? BULLMQ : DBOS, 'linear', String(LINEAR)]);
  return { wall_ms: Number(result.wall_ms), checked: String(result.checked) };
}

async function cleanUp(): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
  const redis = new Redis(REDIS_URL);
  for (const prefix of prefixes) {
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) {
      if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
    }
  }
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
}

const rows: { workload: string; cells: Partial<Record<System, Cell>> }[] = [];
const loads: number[] = [];
const attempt = async (run: () => Promise<Cell> | Cell): Promise<Cell> => {
  try {
    return await run();
  } catch (error) {
    return { wall_ms: Number.NaN, checked: String(error).slice(0, 300) };
  }
};

try {
  for (const concurrency of CONCURRENCIES) {
    const row = {
      workload: `${JOBS} jobs × 3 steps, 2 workers, c=${concurrency}`,
      cells: {} as Partial<Record<System, Cell>>,
    };
    rows.push(row);
    for (const system of [...OURS, ...PEERS]) {
      loads.push(loadavg()[0] ?? 0);
      row.cells[system] = await attempt(() =>
        system === 'bullmq'
          ? bullmqJobs(concurrency)
          : system === 'dbos'
            ? dbosJobs(concurrency)
            : oursJobs(system, concurrency),
      );
      progress({ workload: row.workload, system, ...row.cells[system] });
    }
  }
  const row = {
    workload: `linear run of ${LINEAR} steps`,
    cells: {} as Partial<Record<System, Cell>>,
  };
  rows.push(row);
  for (const system of ['sqlite', 'postgres', ...PEERS] as const) {
    loads.push(loadavg()[0] ?? 0);
    row.cells[system] = await attempt(() => linear(system));
    progress({ workload: row.workload, system, ...row.cells[system] });
  }
} finally {
  await cleanUp();
}

const ms = (cell: Cell | undefined): string => {
  if (cell === undefined) return '—';
  const rate = cell.per_second === undefined ? '' : ` (${cell.per_second}/s)`;
  const mark = cell.checked === 'ok' ? '' : ' ✗';
  return Number.isNaN(cell.wall_ms) ? 'failed ✗' : `${Math.round(cell.wall_ms)} ms${rate}${mark}`;
};
const ratio = (cells: Partial<Record<System, Cell>>, peer: System): string =>
  OURS.map((ours) => {
    const value = (cells[ours]?.wall_ms ?? Number.NaN) / (cells[peer]?.wall_ms ?? Number.NaN);
    return Number.isNaN(value) ? '—' : value.toFixed(2);
  }).join(' / ');

const systems = [...OURS, ...PEERS];
const lines = [
  `| workload | ${systems.map((s) => LABEL[s]).join(' | ')} | ours ÷ BullMQ | ours ÷ DBOS |`,
  `|---|${systems.map(() => '---:').join('|')}|---:|---:|`,
  ...rows.map(
    (r) =>
      `| ${r.workload} | ${systems.map((s) => ms(r.cells[s])).join(' | ')} | ${ratio(r.cells, 'bullmq')} | ${ratio(r.cells, 'dbos')} |`,
  ),
];
const failures = rows.flatMap((r) =>
  systems.flatMap((s) =>
    r.cells[s] && r.cells[s].checked !== 'ok'
      ? [`${r.workload}, ${LABEL[s]}: ${r.cells[s].checked}`]
      : [],
  ),
);
process.stdout.write(`${lines.join('\n')}\n\n`);
process.stdout.write(
  `Ratios: taskflow-ts time ÷ peer time, SQLite / PostgreSQL / Redis board (below 1: taskflow-ts faster). ` +
    `The linear run uses no board, so the Redis column has none. ` +
    `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ` +
    `1-minute load ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} during the run.\n`,
);
for (const failure of failures) process.stdout.write(`✗ ${failure}\n`);
process.exit(failures.length === 0 ? 0 : 1);
