/**
 * Persistence benchmarks (issue #3, "Speed"): prints one JSON line per workload.
 *
 *   node --import tsx --expose-gc bench/persistence.bench.ts               # every workload
 *   node --import tsx --expose-gc bench/persistence.bench.ts sqlite-linear-1000
 *
 * "linear-1000" mimics what an engine writes for a 1,000-task linear run: per task a RUNNING
 * write, then a SUCCESS write with its result, each awaited before the next, through the
 * guarded store (JSON-safety, transition rule, fencing). `n` counts tasks, so `per_item_us`
 * is per task (two writes). `round_trips_per_write` counts statements sent to the database per
 * saveAtom. "load-10000" times loadRun of a run with 10,000 atoms (the start of a resume).
 * Each workload runs in its own child process, so its peak RSS is its own; timings are the
 * median of 5 runs on fresh runs (`mean_per_item_us` also counts runs that hit a checkpoint). PostgreSQL: TASKFLOW_BENCH_POSTGRES_URL, default
 * postgres://postgres@127.0.0.1:5432/test, with synchronous_commit=on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { AtomDetail, FlowDetail } from '../src/persistence/model.ts';
import type { RunStore } from '../src/persistence/ports.ts';
import { openPostgresRunStore } from '../src/persistence/postgres/postgres-run-store.ts';
import { createSqliteRunStore } from '../src/persistence/sqlite/sqlite-run-store.ts';
import { collectGarbage, printResult, summarise, timeMs } from './support.ts';

const RUNS = 5;
const POSTGRES_URL =
  process.env.TASKFLOW_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Backend {
  readonly system: string;
  open(): Promise<{ store: RunStore; statements: () => number; dispose: () => Promise<void> }>;
}

const sqlite = (durability: 'process-kill' | 'power-loss'): Backend => ({
  system: `taskflow-ts/sqlite(${durability})`,
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskflow-bench-'));
    const store = createSqliteRunStore({ path: join(dir, 'runs.db'), durability });
    // In-process library calls, no network: one prepared statement per saveAtom.
    return {
      store,
      statements: () => Number.NaN,
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
});

const postgres: Backend = {
  system: 'taskflow-ts/postgres(synchronous_commit=on)',
  open: async () => {
    const pool = new pg.Pool({
      connectionString: POSTGRES_URL,
      max: 4,
      options: '-c synchronous_commit=on',
    });
    let statements = 0;
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
    // Count what the store sends: each pool.query is one round trip (Parse/Bind/Execute/Sync are
    // pipelined in one flush, and named statements skip Parse after the first use).
    (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args) => {
      statements += 1;
      return query(...args);
    };
    const schema = `bench_${process.pid}`;
    const store = await openPostgresRunStore({ pool, schema });
    const setting = await query('SHOW synchronous_commit');
    if (
      (setting as { rows: { synchronous_commit: string }[] }).rows[0]?.synchronous_commit !== 'on'
    )
      throw new Error('synchronous_commit is not on');
    return {
      store,
      statements: () => statements,
      dispose: async () => {
        await store.close();
        await query(`DROP SCHEMA "${schema}" CASCADE`);
        await pool.end();
      },
    };
  },
};

let runs = 0;
async function newRun(
  store: RunStore,
): Promise<{ flow: FlowDetail; lease: Awaited<ReturnType<RunStore['acquireLease']>> }> {
  runs += 1;
  const now = Date.now();
  const flow: FlowDetail = {
    id: `run-${runs}`,
    logbookId: 'bench',
    name: 'linear',
    state: 'RUNNING',
    store: { x: 1 },
    meta: {},
    createdAt: now,
    updatedAt: now,
  };
  await store.ensureFlow(
    { id: 'bench', name: 'bench', meta: {}, createdAt: now, updatedAt: now },
    flow,
  );
  return { flow, lease: await store.acquireLease(flow.id, 'bench', 600_000) };
}

function atom(i: number, state: AtomDetail['state']): AtomDetail {
  const base: AtomDetail = {
    name: `t${i}`,
    kind: 'task',
    version: '1',
    state,
    intention: 'EXECUTE',
    progress: 0,
    attempts: 1,
    meta: {},
    updatedAt: Date.now(),
  };
  return state === 'SUCCESS' ? { ...base, result: { i, ok: true }, progress: 1 } : base;
}

async function linear(backend: Backend, n: number): Promise<void> {
  const { store, statements, dispose } = await backend.open();
  const times: number[] = [];
  let perWrite = Number.NaN;
  for (let r = 0; r < RUNS; r++) {
    const { flow, lease } = await newRun(store);
    collectGarbage();
    const before = statements();
    times.push(
      await timeMs(async () => {
        for (let i = 0; i < n; i++) {
          await store.saveAtoms(flow.id, [atom(i, 'RUNNING')], lease);
          await store.saveAtoms(flow.id, [atom(i, 'SUCCESS')], lease);
        }
      }),
    );
    perWrite = (statements() - before) / (2 * n);
  }
  await dispose();
  const result = summarise({ system: backend.system, workload: `linear-${n}`, n, runsMs: times });
  // The mean includes the runs that paid for a WAL checkpoint; the median may not.
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  printResult({
    ...result,
    mean_per_item_us: Math.round((mean * 1000) / n),
    writes_per_item: 2,
    round_trips_per_write: Number.isNaN(perWrite) ? 0 : perWrite,
  } as typeof result);
}

async function load(backend: Backend, n: number): Promise<void> {
  const { store, dispose } = await backend.open();
  const { flow, lease } = await newRun(store);
  for (let i = 0; i < n; i++) await store.saveAtoms(flow.id, [atom(i, 'RUNNING')], lease);
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    collectGarbage();
    times.push(await timeMs(() => store.loadRun(flow.id)));
  }
  await dispose();
  printResult(summarise({ system: backend.system, workload: `load-${n}`, n, runsMs: times }));
}

const WORKLOADS: Readonly<Record<string, () => Promise<void>>> = {
  'sqlite-linear-1000': () => linear(sqlite('process-kill'), 1_000),
  'sqlite-power-loss-linear-1000': () => linear(sqlite('power-loss'), 1_000),
  'postgres-linear-1000': () => linear(postgres, 1_000),
  'sqlite-load-10000': () => load(sqlite('process-kill'), 10_000),
  'postgres-load-10000': () => load(postgres, 10_000),
};

const [only] = process.argv.slice(2);
if (only !== undefined) {
  const workload = WORKLOADS[only];
  if (workload === undefined)
    throw new Error(`Unknown workload "${only}"; use one of ${Object.keys(WORKLOADS).join(', ')}.`);
  await workload();
} else {
  for (const id of Object.keys(WORKLOADS)) {
    const script = fileURLToPath(import.meta.url);
    process.stdout.write(
      execFileSync(process.execPath, ['--import', 'tsx', '--expose-gc', script, id], {
        encoding: 'utf8',
      }),
    );
  }
}
