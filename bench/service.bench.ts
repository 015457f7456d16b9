/**
 * Service benchmark (issue #11): the HTTP API under load from autocannon, beside a bare Hono
 * hello-world route served the same way in the same process, and the latency of the event
 * stream. One JSON line per workload.
 *
 *   node --import tsx bench/service.bench.ts            # ~1 min
 *
 * - "hello-world": `GET /hello` of a bare Hono app on @hono/node-server: the framework's ceiling.
 * - "get-run-20-atoms": `GET /v1/runs/:id` of a finished 20-task run (SQLite run store and board,
 *   no auth, loopback). Target: ≥ 40 % of the hello-world rate.
 * - "post-run-3-tasks": `POST /v1/runs` of a 3-task flow (the run's job and its PENDING run
 *   stored; no conductor runs it), with 10 connections and then with one (a POST's own
 *   latency, not queueing behind others). Target: ≤ 2 ms p50 on SQLite.
 * - "sse-latency(postgres)": a service on PostgreSQL streams `/v1/runs/:id/events`; another run
 *   store (its own connections, as another process would have) writes 30 atoms' first states;
 *   from the write's acknowledgement to the event's arrival at the client. Target ≤ 50 ms p50.
 * Each load run: 10 connections, 5 s, after a 1 s warm-up. Servers:
 * TASKFLOW_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test, a fresh schema,
 * dropped after).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import autocannon from 'autocannon';
import { Hono } from 'hono';
import pg from 'pg';
import {
  Engine,
  FlowRegistry,
  linearFlow,
  openJobBoard,
  openRunChangeFeed,
  openRunStore,
  type RunStore,
  task,
} from '../src/index.ts';
import { startService } from '../src/service/index.ts';
import { collectEvents } from '../test/service/sse-client.ts';
import { median } from './support.ts';

const POSTGRES_URL =
  process.env.TASKFLOW_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONNECTIONS = 10;
const DURATION_S = 5;
const SSE_WRITES = 30;
const dir = mkdtempSync(join(tmpdir(), 'taskflow-service-bench-'));

const noops = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) =>
    task({ name: `${prefix}${i}`, execute: () => ({ step: i, at: 'done' }) }),
  );
const registry = new FlowRegistry()
  .register({ name: 'noop3', version: '1', build: () => linearFlow('noop3', noops('t', 3)) })
  .register({ name: 'wide20', version: '1', build: () => linearFlow('wide20', noops('w', 20)) });

interface Load {
  readonly requests: { readonly average: number };
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly non2xx: number;
  readonly errors: number;
}

async function load(options: autocannon.Options, connections = CONNECTIONS): Promise<Load> {
  await autocannon({ ...options, connections, duration: 1, workers: 1 });
  return (await autocannon({
    ...options,
    connections,
    duration: DURATION_S,
    workers: 1,
  })) as Load;
}

function print(workload: string, result: Load, extra: Record<string, unknown> = {}): void {
  const line = {
    system: 'taskflow-ts/service(hono)',
    workload,
    requests_per_s: Math.round(result.requests.average),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non_2xx: result.non2xx,
    errors: result.errors,
    ...extra,
    load1: Math.round((loadavg()[0] ?? 0) * 10) / 10,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function helloWorld(): Promise<Load> {
  const app = new Hono().get('/hello', (c) => c.json({ hello: 'world' }));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await load({ url: `http://127.0.0.1:${port}/hello` });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A finished 20-task run in `runs`, written by an engine as a conductor would. */
async function finishedRun(runs: RunStore): Promise<string> {
  const id = 'bench-run-20';
  const flow = registry.build({ name: 'wide20', version: '1' }, {});
  await new Engine(flow, {
    persistence: { runs, flowId: id, factory: { name: 'wide20', version: '1' } },
  }).run();
  return id;
}

async function sqliteLoads(hello: Load): Promise<void> {
  const url = `sqlite://${join(dir, 'runs.db')}`;
  const runs = await openRunStore(url);
  const board = await openJobBoard(`sqlite://${join(dir, 'jobs.db')}`);
  const feed = await openRunChangeFeed(url);
  const service = await startService({ runs, board, registry, feed, auth: 'none', conductors: 0 });
  try {
    const id = await finishedRun(runs);
    const read = await load({ url: `${service.url}/v1/runs/${id}` });
    print('get-run-20-atoms(sqlite)', read, {
      vs_hello_world: Math.round((read.requests.average / hello.requests.average) * 100) / 100,
    });
    const post = await load({
      url: `${service.url}/v1/runs`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flow: 'noop3', inputs: {} }),
    });
    print('post-run-3-tasks(sqlite)', post);
    // One client at a time: what one POST costs, without waiting behind nine others.
    const single = await load(
      {
        url: `${service.url}/v1/runs`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ flow: 'noop3', inputs: {} }),
      },
      1,
    );
    print('post-run-3-tasks(sqlite, 1 connection)', single);
  } finally {
    await service.close();
    await feed.close();
    await board.close();
    await runs.close();
  }
}

async function sseLatency(): Promise<void> {
  const schema = `tf_service_bench_${process.pid}`;
  const url = `${POSTGRES_URL}?schema=${schema}`;
  const runs = await openRunStore(url);
  const writer = await openRunStore(url);
  const board = await openJobBoard(url);
  const feed = await openRunChangeFeed(url);
  const service = await startService({ runs, board, registry, feed, auth: 'none', conductors: 0 });
  try {
    const now = Date.now();
    const opened = await writer.openRun({
      book: { id: 'bench', name: 'bench', meta: {}, createdAt: now, updatedAt: now },
      flow: {
        id: 'sse-run',
        logbookId: 'bench',
        name: 'noop3',
        state: 'RUNNING',
        store: {},
        meta: {},
        createdAt: now,
        updatedAt: now,
      },
      owner: 'bench-writer',
      ttlMs: 60_000,
    });
    // One atom change per write, in order: the i-th atom event is the i-th write.
    const written: number[] = [];
    const arrived: number[] = [];
    let ready: () => void = () => undefined;
    const streaming = new Promise<void>((resolve) => {
      ready = resolve;
    });
    let seen = 0;
    const stream = collectEvents(
      `${service.url}/v1/runs/sse-run/events`,
      {},
      (events) => {
        for (const event of events.slice(seen)) {
          if (event.event === 'atom') arrived.push(performance.now());
        }
        seen = events.length;
        return arrived.length >= SSE_WRITES;
      },
      () => ready(),
    );
    await streaming;
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let i = 1; i <= SSE_WRITES; i++) {
      // A new atom each time: the feed records state changes, and a repeated state is none.
      const detail = {
        name: `a${i}`,
        kind: 'task' as const,
        version: '1',
        state: 'RUNNING' as const,
        intention: 'EXECUTE' as const,
        progress: 0,
        attempts: 1,
        meta: {},
        updatedAt: Date.now(),
      };
      await writer.saveAtoms('sse-run', [detail], opened.lease);
      written.push(performance.now());
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await stream;
    const latencies = arrived.map((at, i) => at - (written[i] ?? Number.NaN));
    const sorted = [...latencies].sort((a, b) => a - b);
    process.stdout.write(
      `${JSON.stringify({
        system: 'taskflow-ts/service(hono)',
        workload: 'sse-latency(postgres, writer on its own connections)',
        n: latencies.length,
        p50_ms: Math.round(median(latencies) * 10) / 10,
        p90_ms: Math.round((sorted[Math.floor(sorted.length * 0.9)] ?? Number.NaN) * 10) / 10,
        load1: Math.round((loadavg()[0] ?? 0) * 10) / 10,
      })}\n`,
    );
  } finally {
    await service.close();
    await feed.close();
    await board.close();
    await writer.close();
    await runs.close();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}

try {
  const hello = await helloWorld();
  print('hello-world(bare hono)', hello);
  await sqliteLoads(hello);
  await sseLatency();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
