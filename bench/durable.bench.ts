/**
 * Durable-run benchmarks (issue #3, "Speed"): the Engine with persistence on. Prints one JSON
 * line per workload.
 *
 *   node --import tsx --expose-gc bench/durable.bench.ts                      # every workload
 *   node --import tsx --expose-gc bench/durable.bench.ts sqlite-resume-10000  # only some
 *
 * - `*-engine-linear-1000`: `await engine.run()` of a linear flow of 1,000 no-op tasks on a
 *   fresh run (attach, lease, every atom write, flow states, release); the Engine is built and
 *   compiled before the clock starts. Median of 5. On PostgreSQL `round_trips_per_task` counts
 *   every `query()` sent on the pool's connections (wrapped when each connection opens, so
 *   BEGIN/COMMIT of batches count too); each `query()` waits for its reply, one round trip.
 * - `*-resume-N`: a run of N no-op tasks suspended when task N-2 succeeded (N-1 done) by a first
 *   engine in a builder process; a second process times `resumeRun()` (rebuild from the
 *   registry, load) plus `run()` to the end (`resume_run_ms`: the `resumeRun()` part alone).
 *   Median of 5 runs; the peak RSS is the measuring process's only (`rss_at_start_mb` is tsx
 *   and the modules, before any run).
 * - `sqlite-kill-resume-200`: a child process runs 200 tasks on SQLite and SIGKILLs itself inside
 *   task 100, after that task's side effect; once its lease expired, a fresh process resumes the
 *   run. `wall_ms` runs from spawning the resume process to its exit with the flow SUCCESS;
 *   `since_process_start_ms` from the child's process start (node, tsx, imports) to the end of
 *   `run()`, `in_process_ms` from its first line of code; `peak_rss_mb` is the resume process's.
 *   `executed_twice` counts the tasks with two side-effect lines. Median of 5.
 * PostgreSQL: TASKFLOW_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test, a
 * fresh schema per workload, synchronous_commit=on.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  Engine,
  type Flow,
  FlowRegistry,
  isStorageError,
  linearFlow,
  type RunStore,
  resumeRun,
  startRun,
  type Task,
  task,
} from '../src/index.ts';
import { openPostgresRunStore } from '../src/persistence/postgres/postgres-run-store.ts';
import { createSqliteRunStore } from '../src/persistence/sqlite/sqlite-run-store.ts';
import { collectGarbage, median, peakRssMb, printResult, summarise, timeMs } from './support.ts';

const RUNS = 5;
const POSTGRES_URL =
  process.env.TASKFLOW_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCRIPT = fileURLToPath(import.meta.url);
const KILL_LEASE_TTL_MS = 500;

type Backend = 'sqlite' | 'postgres';
const SYSTEM: Record<Backend, string> = {
  sqlite: 'taskflow-ts/engine+sqlite(process-kill)',
  postgres: 'taskflow-ts/engine+postgres(synchronous_commit=on)',
};

interface OpenStore {
  readonly store: RunStore;
  /** Statements sent so far (PostgreSQL); NaN for SQLite, an in-process library. */
  readonly statements: () => number;
  close(): Promise<void>;
}

/** `location` is a SQLite file or a PostgreSQL schema. */
async function openStore(backend: Backend, location: string): Promise<OpenStore> {
  if (backend === 'sqlite') {
    const store = createSqliteRunStore({ path: location });
    return { store, statements: () => Number.NaN, close: () => store.close() };
  }
  const pool = new pg.Pool({
    connectionString: POSTGRES_URL,
    max: 4,
    options: '-c synchronous_commit=on',
  });
  pool.on('error', () => {});
  let statements = 0;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
      statements += 1;
      return query(...args);
    };
  });
  const store = await openPostgresRunStore({ pool, schema: location });
  const { rows } = await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
  if (rows[0]?.synchronous_commit !== 'on') throw new Error('synchronous_commit is not on');
  return {
    store,
    statements: () => statements,
    close: async () => {
      await store.close();
      await pool.end();
    },
  };
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

function noopFlow(n: number, execute: (name: string) => unknown = () => undefined): Flow {
  const tasks: Task[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const name = `t${i}`;
    tasks[i] = task({ name, execute: () => execute(name) });
  }
  return linearFlow('linear', tasks);
}

const registryOf = (n: number, execute?: (name: string) => unknown): FlowRegistry =>
  new FlowRegistry().register({ name: 'linear', version: '1', build: () => noopFlow(n, execute) });

async function engineLinear(backend: Backend, n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'taskflow-durable-bench-'));
  const location = backend === 'sqlite' ? join(dir, 'runs.db') : `bench_durable_${process.pid}`;
  const { store, statements, close } = await openStore(backend, location);
  const times: number[] = [];
  let perTask = Number.NaN;
  try {
    for (let r = 0; r < RUNS; r++) {
      const engine = new Engine(noopFlow(n), { persistence: { store, flowId: `run-${r}` } });
      engine.compile();
      collectGarbage();
      const before = statements();
      times.push(
        await timeMs(async () => {
          const { state } = await engine.run();
          if (state !== 'SUCCESS') throw new Error(`run ended ${state}`);
        }),
      );
      perTask = (statements() - before) / n;
    }
  } finally {
    await close();
    if (backend === 'postgres') await dropSchema(location);
    rmSync(dir, { recursive: true, force: true });
  }
  const result = summarise({
    system: SYSTEM[backend],
    workload: `engine-linear-${n}`,
    n,
    runsMs: times,
  });
  printResult({
    ...result,
    min_wall_ms: Math.round(Math.min(...times) * 1000) / 1000,
    round_trips_per_task: Number.isNaN(perTask) ? null : Math.round(perTask * 1000) / 1000,
  } as typeof result);
}

/** Builder process: `count` runs of `n` tasks, each suspended with n-1 tasks done. */
async function buildSuspended(backend: Backend, location: string, n: number, count: number) {
  const { store, close } = await openStore(backend, location);
  const registry = registryOf(n);
  const last = `t${n - 2}`;
  for (let r = 0; r < count; r++) {
    const engine = startRun('linear', {}, { store, registry, runId: `resume-${r}` });
    engine.subscribe((event) => {
      if (event.type === 'atom' && event.atom === last && event.to === 'SUCCESS') engine.suspend();
    });
    const { state } = await engine.run();
    const stored = await store.loadRun(`resume-${r}`);
    const done = stored?.atoms.filter((atom) => atom.state === 'SUCCESS').length;
    if (state !== 'SUSPENDED' || done !== n - 1)
      throw new Error(`builder: run ended ${state} with ${done} atoms done, wanted ${n - 1}`);
  }
  await close();
}

/** Measuring process: resumes each suspended run to the end. */
async function measureResume(backend: Backend, location: string, n: number, count: number) {
  const rssAtStart = process.memoryUsage().rss / 2 ** 20;
  const { store, close } = await openStore(backend, location);
  const registry = registryOf(n);
  const times: number[] = [];
  const rebuild: number[] = [];
  for (let r = 0; r < count; r++) {
    collectGarbage();
    times.push(
      await timeMs(async () => {
        const started = performance.now();
        const engine = await resumeRun({ store, registry, flowId: `resume-${r}` });
        rebuild.push(performance.now() - started);
        const { state } = await engine.run();
        if (state !== 'SUCCESS') throw new Error(`resume ended ${state}`);
        if (engine.statistics.executed !== 1)
          throw new Error(`resume executed ${engine.statistics.executed} atoms, wanted 1`);
      }),
    );
  }
  await close();
  const result = summarise({ system: SYSTEM[backend], workload: `resume-${n}`, n, runsMs: times });
  printResult({
    ...result,
    min_wall_ms: Math.round(Math.min(...times) * 1000) / 1000,
    rss_at_start_mb: Math.round(rssAtStart * 10) / 10,
    resume_run_ms: Math.round(median(rebuild) * 1000) / 1000,
  } as typeof result);
}

async function resume(backend: Backend, n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'taskflow-durable-bench-'));
  const location = backend === 'sqlite' ? join(dir, 'runs.db') : `bench_resume_${process.pid}`;
  const count = String(RUNS);
  try {
    execFileSync(process.execPath, [...NODE_ARGS, '--build', backend, location, String(n), count]);
    process.stdout.write(
      execFileSync(
        process.execPath,
        [...NODE_ARGS, '--measure', backend, location, String(n), count],
        {
          encoding: 'utf8',
        },
      ),
    );
  } finally {
    if (backend === 'postgres') await dropSchema(location);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Kill-and-resume child: runs (or resumes) 200 logged tasks, dying inside task `killAt`. */
async function killChild(mode: string, url: string, effects: string, killAt: number) {
  const started = performance.now();
  const registry = registryOf(200, (name) => {
    appendFileSync(effects, `${name}\n`);
    if (name === `t${killAt}`) process.kill(process.pid, 'SIGKILL');
  });
  const store = createSqliteRunStore({ path: url });
  const persistence = { leaseTtlMs: KILL_LEASE_TTL_MS };
  let leaseWaitMs = 0;
  for (;;) {
    const engine =
      mode === 'start'
        ? startRun('linear', {}, { store, registry, runId: 'kill', persistence })
        : await resumeRun({ store, registry, flowId: 'kill', persistence });
    try {
      const { state } = await engine.run();
      await store.close();
      // performance.now() counts from the start of this process, so it includes loading tsx.
      const ended = performance.now();
      const report = { state, inProcessMs: ended - started, sinceStartMs: ended, leaseWaitMs };
      process.stdout.write(`${JSON.stringify({ ...report, peakRssMb: peakRssMb() })}\n`);
      return;
    } catch (error) {
      if (!isStorageError(error, 'LEASE_HELD')) throw error;
      await sleep(20);
      leaseWaitMs += 20;
    }
  }
}

async function killAndResume(n: number, killAt: number): Promise<void> {
  const spawnToEnd: number[] = [];
  const inProcess: number[] = [];
  const sinceStart: number[] = [];
  const rss: number[] = [];
  const twice: number[] = [];
  const leaseWaits: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const dir = mkdtempSync(join(tmpdir(), 'taskflow-durable-bench-'));
    const db = join(dir, 'runs.db');
    const effects = join(dir, 'effects.log');
    writeFileSync(effects, '');
    try {
      execFileSync(process.execPath, [
        ...NODE_ARGS,
        '--kill-child',
        'start',
        db,
        effects,
        String(killAt),
      ]);
      throw new Error('the child was not killed');
    } catch (error) {
      if ((error as { signal?: string }).signal !== 'SIGKILL') throw error;
    }
    await sleep(KILL_LEASE_TTL_MS + 50);
    const started = performance.now();
    const out = execFileSync(
      process.execPath,
      [...NODE_ARGS, '--kill-child', 'resume', db, effects, '-1'],
      {
        encoding: 'utf8',
      },
    );
    spawnToEnd.push(performance.now() - started);
    const child = JSON.parse(out) as {
      state: string;
      inProcessMs: number;
      sinceStartMs: number;
      leaseWaitMs: number;
      peakRssMb: number;
    };
    if (child.state !== 'SUCCESS') throw new Error(`resume ended ${child.state}`);
    inProcess.push(child.inProcessMs);
    sinceStart.push(child.sinceStartMs);
    rss.push(child.peakRssMb);
    leaseWaits.push(child.leaseWaitMs);
    const lines = readFileSync(effects, 'utf8').split('\n').filter(Boolean);
    if (new Set(lines).size !== n) throw new Error(`only ${new Set(lines).size} of ${n} tasks ran`);
    twice.push(lines.length - n);
    rmSync(dir, { recursive: true, force: true });
  }
  const result = summarise({
    system: SYSTEM.sqlite,
    workload: `kill-resume-${n}`,
    n,
    runsMs: spawnToEnd,
  });
  printResult({
    ...result,
    since_process_start_ms: Math.round(median(sinceStart) * 1000) / 1000,
    in_process_ms: Math.round(median(inProcess) * 1000) / 1000,
    lease_wait_ms: median(leaseWaits),
    executed_twice: Math.max(...twice),
    killed_in: `t${killAt}`,
    // The resume process's own peak, not this parent's.
    peak_rss_mb: Math.round(Math.max(...rss) * 10) / 10,
  } as typeof result);
}

const NODE_ARGS = ['--import', 'tsx', '--expose-gc', SCRIPT];

const WORKLOADS: Readonly<Record<string, () => Promise<void>>> = {
  'sqlite-engine-linear-1000': () => engineLinear('sqlite', 1_000),
  'postgres-engine-linear-1000': () => engineLinear('postgres', 1_000),
  'sqlite-resume-10000': () => resume('sqlite', 10_000),
  'sqlite-resume-20000': () => resume('sqlite', 20_000),
  'postgres-resume-10000': () => resume('postgres', 10_000),
  'sqlite-kill-resume-200': () => killAndResume(200, 100),
};

const [first, ...rest] = process.argv.slice(2);
if (first === '--build' || first === '--measure') {
  const [backend, location = '', n = '0', count = '0'] = rest;
  const run = first === '--build' ? buildSuspended : measureResume;
  await run(backend as Backend, location, Number(n), Number(count));
} else if (first === '--kill-child') {
  const [mode = '', db = '', effects = '', killAt = '-1'] = rest;
  await killChild(mode, db, effects, Number(killAt));
} else {
  const chosen = first === undefined ? Object.keys(WORKLOADS) : [first, ...rest];
  for (const id of chosen) {
    if (WORKLOADS[id] === undefined)
      throw new Error(`Unknown workload "${id}"; use one of ${Object.keys(WORKLOADS).join(', ')}.`);
    if (chosen.length === 1) await WORKLOADS[id]();
    else
      process.stdout.write(
        execFileSync(process.execPath, [...NODE_ARGS, id], { encoding: 'utf8' }),
      );
  }
}
