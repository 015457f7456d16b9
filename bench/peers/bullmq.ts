/**
 * BullMQ side of the published comparison (issue #16). Durability: jobs live in Redis (here
 * with the server's own persistence settings); a job's three steps run inside one processor
 * call and nothing is written between them, so a crash mid-job re-runs the whole job after its
 * lock expires (no per-step checkpoint).
 *
 *   node --import tsx bench/peers/bullmq.ts worker <queue> <concurrency>   # used by run.ts
 *   node --import tsx bench/peers/bullmq.ts linear 1000                    # prints one JSON line
 *
 * - jobs: `postJobs` adds N jobs to a queue; each worker process (concurrency C) runs the three
 *   no-op steps of a job in its processor, printing the lines bench/peers/harness.ts reads.
 * - linear: a chain of N jobs as one BullMQ flow (each job the only child of the next, so they
 *   run one after another, leaf first), one worker of concurrency 1 in this process; timed from
 *   `FlowProducer.add` to the root job's completion. Median of 5.
 * Server: TASKFLOW_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0); queues use a fresh
 * prefix, removed after.
 */
import { appendFileSync } from 'node:fs';
import { type FlowJob, FlowProducer, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { installedVersion, STEPS, stamp } from './harness.ts';

const REDIS_URL = process.env.TASKFLOW_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const RUNS = 5;

export const VERSION = installedVersion('bullmq');

/** Every connection gets its own client, as BullMQ requires for blocking workers. */
const connection = () => new Redis(REDIS_URL, { maxRetriesPerRequest: null });

export function prefixFor(run: string): string {
  return `tf-peers-bullmq:${process.pid}:${run}`;
}

export async function postJobs(prefix: string, queueName: string, n: number): Promise<void> {
  const queue = new Queue(queueName, { connection: connection(), prefix });
  const jobs = Array.from({ length: n }, (_, i) => ({ name: 'noop3', data: { job: `j${i}` } }));
  for (let i = 0; i < n; i += 100) await queue.addBulk(jobs.slice(i, i + 100));
  await queue.close();
}

/** undefined when every job is completed in Redis, otherwise what is not. */
export async function verifyJobs(
  prefix: string,
  queueName: string,
  n: number,
): Promise<string | undefined> {
  const queue = new Queue(queueName, { connection: connection(), prefix });
  const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
  await queue.close();
  return counts.completed === n ? undefined : `BullMQ job counts: ${JSON.stringify(counts)}`;
}

export async function removePrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) {
    if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
  }
  redis.disconnect();
}

async function worker(prefix: string, queueName: string, concurrency: number): Promise<void> {
  const name = process.env.NAME ?? 'w';
  const effects = process.env.EFFECTS ?? '';
  const log = (line: string): void => appendFileSync(effects, `${stamp()} ${line}\n`);
  const step = async (job: string, label: string): Promise<void> => {
    log(`start ${job} ${label} ${name}`);
    log(`end ${job} ${label} ${name}`);
  };
  const w = new Worker<{ job: string }>(
    queueName,
    async (job) => {
      process.stdout.write(`${stamp()} claimed ${job.data.job}\n`);
      for (const label of STEPS) await step(job.data.job, label);
    },
    { connection: connection(), prefix, concurrency, autorun: false },
  );
  w.on('completed', (job) => process.stdout.write(`${stamp()} completed ${job.data.job}\n`));
  w.on('failed', (job, error) =>
    process.stdout.write(`${stamp()} error ${job?.data.job} ${String(error)}\n`),
  );
  await w.waitUntilReady();
  process.once('SIGTERM', () => void w.close().then(() => process.exit(0)));
  process.stdout.write('ready\n');
  await w.run();
}

async function linear(n: number): Promise<void> {
  const prefix = prefixFor('linear');
  const queueName = 'chain';
  const executed: number[] = [];
  let finished: (() => void) | undefined;
  const w = new Worker<{ i: number }>(
    queueName,
    async (job) => {
      executed.push(job.data.i);
    },
    { connection: connection(), prefix, concurrency: 1 },
  );
  w.on('completed', (job) => {
    if (job.data.i === n - 1) finished?.();
  });
  await w.waitUntilReady();
  const flows = new FlowProducer({ connection: connection(), prefix });
  const times: number[] = [];
  const addTimes: number[] = [];
  try {
    for (let r = 0; r < RUNS; r += 1) {
      executed.length = 0;
      // Job n-1 is the root; job 0 the deepest leaf, which runs first.
      let tree: FlowJob = { name: `s0`, queueName, data: { i: 0 } };
      for (let i = 1; i < n; i += 1)
        tree = { name: `s${i}`, queueName, data: { i }, children: [tree] };
      const done = new Promise<void>((resolve) => {
        finished = resolve;
      });
      const started = performance.now();
      await flows.add(tree);
      addTimes.push(performance.now() - started);
      await done;
      times.push(performance.now() - started);
      const inOrder = executed.every((value, index) => value === index);
      if (executed.length !== n || !inOrder)
        throw new Error(`the chain ran ${executed.length} jobs, in order: ${inOrder}`);
      const queue = new Queue(queueName, { connection: connection(), prefix });
      await queue.obliterate({ force: true });
      await queue.close();
    }
  } finally {
    await w.close();
    await flows.close();
    await removePrefix(prefix);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;
  const wall = median(times);
  process.stdout.write(
    `${JSON.stringify({
      system: `bullmq ${VERSION}`,
      workload: `flow-chain-${n}`,
      n,
      wall_ms: Math.round(wall * 10) / 10,
      per_item_us: Math.round((wall * 1000) / n),
      add_ms: Math.round(median(addTimes) * 10) / 10,
      checked: 'ok',
    })}\n`,
  );
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [mode, a = '', b = ''] = process.argv.slice(2);
  if (mode === 'worker') {
    const [prefix, queueName] = a.split('|') as [string, string];
    await worker(prefix, queueName, Number(b));
  } else if (mode === 'linear') {
    await linear(Number(a));
    process.exit(0);
  } else {
    throw new Error('usage: bullmq.ts worker <prefix|queue> <concurrency> | linear <n>');
  }
}
