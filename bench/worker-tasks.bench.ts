/**
 * Worker tasks benchmark (issue #15): a flow document of N no-op `worker` tasks (an unordered
 * flow, run at engine concurrency C) through W HTTP workers that long-poll
 * `POST /v1/tasks/claim` and `complete` each task, all on one SQLite file (run store, board,
 * definitions, worker queue), the service and its conductor in this process, the workers as
 * async loops of `fetch` in this process too. Prints one JSON line: tasks/s from the run's post
 * to its job's end, and the claim-to-complete latency (a claim answered → its complete
 * answered) p50/p99. Target: ≥ 1,000 tasks/s on SQLite.
 *
 *   node --import tsx bench/worker-tasks.bench.ts [--tasks 1000] [--workers 4] [--concurrency 64]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSqliteJobBoard, createSqliteRunStore, openRunChangeFeed } from '../src/index.ts';
import {
  DefinitionRegistry,
  FLOW_DOCUMENT_FORMAT,
  openDefinitionStore,
  openWorkerTaskQueue,
  startService,
} from '../src/service/index.ts';
import { median, peakRssMb } from './support.ts';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '64' },
  },
});
const tasks = Number(values.tasks);
const workers = Number(values.workers);
const concurrency = Number(values.concurrency);

const dir = mkdtempSync(join(tmpdir(), 'taskflow-worker-bench-'));
const path = join(dir, 'runs.db');
const url = `sqlite://${path}`;
const runs = createSqliteRunStore({ path });
const board = createSqliteJobBoard({ path: join(dir, 'jobs.db') });
const feed = await openRunChangeFeed(url);
const definitions = await openDefinitionStore(url);
const queue = await openWorkerTaskQueue(url);
const registry = await DefinitionRegistry.open({ store: definitions, workers: queue });
const service = await startService({
  runs,
  board,
  registry,
  feed,
  auth: 'none',
  port: 0,
  conductors: 1,
  conductor: { claimWaitMs: 50, engine: { concurrency } },
  dashboard: false,
});

await registry.put({
  format: FLOW_DOCUMENT_FORMAT,
  name: 'many',
  version: '1',
  flow: {
    type: 'unordered',
    children: Array.from({ length: tasks }, (_, i) => ({
      type: 'worker',
      name: `t${i}`,
      taskType: 'bench.noop',
    })),
  },
});

const post = (path: string, body: unknown): Promise<Response> =>
  fetch(`${service.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

const latencies: number[] = [];
let remaining = tasks;
async function worker(name: string): Promise<void> {
  while (remaining > 0) {
    const claimed = await post('/v1/tasks/claim', {
      types: ['bench.noop'],
      worker: name,
      waitMs: 200,
    });
    if (claimed.status === 204) {
      await claimed.body?.cancel();
      continue;
    }
    const task = (await claimed.json()) as { id: string; token: number };
    const at = performance.now();
    const done = await post(`/v1/tasks/${task.id}/complete`, { token: task.token, result: null });
    await done.body?.cancel();
    latencies.push(performance.now() - at);
    remaining -= 1;
  }
}

const started = performance.now();
const posted = (await (await post('/v1/runs', { flow: 'many', inputs: {} })).json()) as {
  id: string;
};
await Promise.all(Array.from({ length: workers }, (_, i) => worker(`w${i}`)));
const job = await board.wait(posted.id);
const wallMs = performance.now() - started;
const sorted = [...latencies].sort((a, b) => a - b);
console.log(
  JSON.stringify({
    system: 'taskflow-ts',
    workload: `worker-tasks(sqlite, ${workers} workers, concurrency ${concurrency})`,
    n: tasks,
    outcome: job.outcome?.state,
    wall_ms: Math.round(wallMs),
    tasks_per_s: Math.round((tasks / wallMs) * 1000),
    claim_to_complete_p50_ms: Number(median(sorted).toFixed(2)),
    claim_to_complete_p99_ms: Number((sorted[Math.floor(sorted.length * 0.99)] ?? 0).toFixed(2)),
    peak_rss_mb: peakRssMb(),
    load: loadavg()[0]?.toFixed(2),
  }),
);

await service.close();
await registry.close();
await queue.close();
await definitions.close();
await feed.close();
await board.close();
await runs.close();
rmSync(dir, { recursive: true, force: true });
