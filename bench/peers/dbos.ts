/**
 * DBOS side of the published comparison (issue #16). Durability: every workflow and every step
 * is committed to PostgreSQL (the `dbos` schema of its system database: `workflow_status`, one
 * `operation_outputs` row per step) before the next one starts, like taskflow-ts's write-ahead
 * of each task.
 *
 *   node --import tsx bench/peers/dbos.ts setup <jobs> <concurrency>   # used by run.ts
 *   node --import tsx bench/peers/dbos.ts worker                       # used by run.ts
 *   node --import tsx bench/peers/dbos.ts linear 1000                  # prints one JSON line
 *
 * - jobs: `setup` recreates the database, registers the queue (per-process concurrency C,
 *   minimum polling interval 10 ms, see below) and enqueues N workflows of three no-op steps
 *   from a process that listens to no queue; each `worker` process dequeues and runs them,
 *   printing the lines bench/peers/harness.ts reads. DBOS queues are polled (no notification):
 *   the default minimum interval is 1 s, which caps a worker of concurrency 1 at about one
 *   workflow a second; 10 ms is set here so polling is not what is measured.
 * - linear: one workflow of N durable no-op steps (`DBOS.runStep`), started and awaited in
 *   this process (launched before the clock starts). Median of 5.
 * Server: TASKFLOW_BENCH_DBOS_URL (default postgres://postgres@127.0.0.1:5432/dbos_bench), a
 * database dropped and created again for each workload.
 */
import { appendFileSync } from 'node:fs';
import { DBOS } from '@dbos-inc/dbos-sdk';
import pg from 'pg';
import { installedVersion, STEPS, stamp } from './harness.ts';

export const DBOS_URL =
  process.env.TASKFLOW_BENCH_DBOS_URL ?? 'postgres://postgres@127.0.0.1:5432/dbos_bench';
export const VERSION = installedVersion('@dbos-inc/dbos-sdk');
const QUEUE = 'jobs';
const POLLING_MS = 10;
const RUNS = 5;

function configure(executorID: string, listenQueues?: string[]): void {
  DBOS.setConfig({
    name: 'tf-peers',
    systemDatabaseUrl: DBOS_URL,
    applicationVersion: 'bench',
    executorID,
    logLevel: 'error',
    ...(listenQueues === undefined ? {} : { listenQueues }),
  });
}

/** Drops and creates the benchmark database, through the server's `postgres` database. */
export async function recreateDatabase(): Promise<void> {
  const url = new URL(DBOS_URL);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
}

async function query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: DBOS_URL });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** undefined when every workflow succeeded and each committed exactly three steps. */
export async function verifyJobs(n: number): Promise<string | undefined> {
  const [row] = await query<{ success: string; total: string; steps: string }>(
    `SELECT (SELECT count(*) FROM dbos.workflow_status WHERE status = 'SUCCESS') AS success,
            (SELECT count(*) FROM dbos.workflow_status) AS total,
            (SELECT count(*) FROM dbos.operation_outputs) AS steps`,
  );
  const ok = Number(row?.success) === n && Number(row?.total) === n && Number(row?.steps) === 3 * n;
  return ok ? undefined : `DBOS rows: ${JSON.stringify(row)}`;
}

/** The last workflow's status commit (epoch ms, the server's clock). */
export async function lastCompletion(): Promise<number> {
  const [row] = await query<{ last: string }>(
    `SELECT max(updated_at) AS last FROM dbos.workflow_status WHERE status = 'SUCCESS'`,
  );
  return Number(row?.last);
}

const name = process.env.NAME ?? 'w';
const effects = process.env.EFFECTS ?? '';
const log = (line: string): void => appendFileSync(effects, `${stamp()} ${line}\n`);

const noop3 = DBOS.registerWorkflow(
  async (job: string): Promise<void> => {
    process.stdout.write(`${stamp()} claimed ${job}\n`);
    for (const label of STEPS) {
      await DBOS.runStep(
        async () => {
          log(`start ${job} ${label} ${name}`);
          log(`end ${job} ${label} ${name}`);
        },
        { name: label },
      );
    }
    process.stdout.write(`${stamp()} completed ${job}\n`);
  },
  { name: 'noop3' },
);

let linearSteps = 0;
const linearFlow = DBOS.registerWorkflow(
  async (): Promise<number> => {
    let executed = 0;
    for (let i = 0; i < linearSteps; i += 1) {
      await DBOS.runStep(
        async () => {
          executed += 1;
        },
        { name: `t${i}` },
      );
    }
    return executed;
  },
  { name: 'linear' },
);

async function setup(jobs: number, concurrency: number): Promise<void> {
  await recreateDatabase();
  configure('poster', ['no-such-queue']);
  await DBOS.launch();
  await DBOS.registerQueue(QUEUE, {
    workerConcurrency: concurrency,
    minPollingIntervalMs: POLLING_MS,
    onConflict: 'always_update',
  });
  for (let i = 0; i < jobs; i += 1) {
    await DBOS.startWorkflow(noop3, { queueName: QUEUE, workflowID: `j${i}` })(`j${i}`);
  }
  await DBOS.shutdown();
}

async function worker(): Promise<void> {
  configure(name);
  await DBOS.launch();
  process.once('SIGTERM', () => void DBOS.shutdown().then(() => process.exit(0)));
  process.stdout.write('ready\n');
}

async function linear(n: number): Promise<void> {
  await recreateDatabase();
  configure('linear', ['no-such-queue']);
  linearSteps = n;
  await DBOS.launch();
  const times: number[] = [];
  for (let r = 0; r < RUNS; r += 1) {
    const started = performance.now();
    const handle = await DBOS.startWorkflow(linearFlow, { workflowID: `linear-${r}` })();
    const executed = await handle.getResult();
    times.push(performance.now() - started);
    if (executed !== n) throw new Error(`the workflow ran ${executed} steps, wanted ${n}`);
  }
  await DBOS.shutdown();
  const [row] = await query<{ steps: string }>(
    'SELECT count(*) AS steps FROM dbos.operation_outputs',
  );
  if (Number(row?.steps) !== RUNS * n)
    throw new Error(`${row?.steps} step rows committed, wanted ${RUNS * n}`);
  const wall = [...times].sort((a, b) => a - b)[times.length >> 1] ?? 0;
  process.stdout.write(
    `${JSON.stringify({
      system: `dbos ${VERSION}`,
      workload: `workflow-${n}-steps`,
      n,
      wall_ms: Math.round(wall * 10) / 10,
      per_item_us: Math.round((wall * 1000) / n),
      checked: 'ok',
    })}\n`,
  );
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [mode, a = '', b = ''] = process.argv.slice(2);
  if (mode === 'setup') await setup(Number(a), Number(b));
  else if (mode === 'worker') await worker();
  else if (mode === 'linear') await linear(Number(a));
  else throw new Error('usage: dbos.ts setup <jobs> <concurrency> | worker | linear <n>');
}
