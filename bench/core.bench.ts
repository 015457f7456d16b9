/**
 * Core engine benchmarks (issue #2, "Speed"): prints one JSON line per workload.
 *
 *   npm run bench                      # every workload, each in its own child process
 *   npm run bench -- graph-10000       # only the named workloads
 *   node --import tsx --expose-gc bench/core.bench.ts --workload linear-1000   # one, in this process
 *
 * Each workload runs in a fresh child process so its peak RSS is its own (the kernel's maxRSS
 * never goes down). Inside it, every measurement is the median of 5 runs, in memory, with no
 * listeners. "run" timings cover `await engine.run()` only: the Engine is constructed and
 * compiled before the clock starts, and the garbage of the previous run is collected first.
 */
import { fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  Engine,
  type Flow,
  graphFlow,
  linearFlow,
  type Task,
  task,
  unorderedFlow,
} from '../src/index.ts';
import {
  type BenchResult,
  collectGarbage,
  printResult,
  seededRandom,
  summarise,
  timeMs,
} from './support.ts';

const SYSTEM = 'taskflow-ts';
const RUNS = 5;

interface Workload {
  readonly id: string;
  measure(): Promise<BenchResult[]>;
}

const WORKLOADS: readonly Workload[] = [
  { id: 'linear-1000', measure: () => linearNoop(1_000) },
  { id: 'linear-10000', measure: () => linearNoop(10_000) },
  { id: 'linear-100000', measure: () => linearNoop(100_000) },
  {
    id: 'unordered-timers',
    measure: () => unorderedTimers({ n: 1_000, sleepMs: 10, concurrency: 64 }),
  },
  { id: 'graph-10000', measure: () => graphRandom({ n: 10_000, maxRequires: 3, seed: 42 }) },
];

function noopTasks(n: number): Task[] {
  const tasks: Task[] = new Array(n);
  for (let i = 0; i < n; i++) tasks[i] = task({ name: `t${i}`, execute: () => undefined });
  return tasks;
}

/** Runs `flow` on a fresh, compiled engine and returns how long `run()` took. */
async function timeRun(flow: Flow, concurrency: number): Promise<number> {
  const engine = new Engine(flow, { concurrency });
  engine.compile();
  collectGarbage();
  const started = performance.now();
  const { state } = await engine.run();
  const elapsed = performance.now() - started;
  if (state !== 'SUCCESS')
    throw new Error(`Flow "${flow.name}" ended ${state}; a benchmark run must succeed.`);
  return elapsed;
}

/** A linear flow of no-op tasks at concurrency 1: the scheduler's fixed cost per task. */
async function linearNoop(n: number): Promise<BenchResult[]> {
  const buildMs: number[] = [];
  const runMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    collectGarbage();
    let flow: Flow | undefined;
    buildMs.push(
      await timeMs(() => {
        flow = linearFlow('linear', noopTasks(n));
        new Engine(flow).compile();
      }),
    );
    runMs.push(await timeRun(flow as Flow, 1));
  }
  return [
    summarise({
      system: SYSTEM,
      workload: 'linear-noop/build+compile+validate',
      n,
      runsMs: buildMs,
    }),
    summarise({ system: SYSTEM, workload: 'linear-noop/run(c=1)', n, runsMs: runMs }),
  ];
}

/** An unordered flow of tasks that each wait on a timer: how well the scheduler keeps `concurrency` busy. */
async function unorderedTimers(options: {
  n: number;
  sleepMs: number;
  concurrency: number;
}): Promise<BenchResult[]> {
  const tasks: Task[] = [];
  for (let i = 0; i < options.n; i++) {
    tasks.push(task({ name: `t${i}`, execute: () => sleep(options.sleepMs) }));
  }
  const flow = unorderedFlow('unordered', tasks);
  const runMs: number[] = [];
  for (let i = 0; i < RUNS; i++) runMs.push(await timeRun(flow, options.concurrency));
  const workload = `unordered-sleep${options.sleepMs}ms/run(c=${options.concurrency})`;
  return [summarise({ system: SYSTEM, workload, n: options.n, runsMs: runMs })];
}

/**
 * Task i provides `v<i>` and requires the outputs of up to `maxRequires` distinct random
 * earlier tasks; the graph flow infers every edge from those symbols.
 */
function randomGraphTasks(options: { n: number; maxRequires: number; seed: number }): Task[] {
  const random = seededRandom(options.seed);
  const tasks: Task[] = new Array(options.n);
  for (let i = 0; i < options.n; i++) {
    const count = Math.min(i, 1 + Math.floor(random() * options.maxRequires));
    const requires = new Set<string>();
    while (requires.size < count) requires.add(`v${Math.floor(random() * i)}`);
    tasks[i] = task({
      name: `t${i}`,
      requires: [...requires],
      provides: `v${i}`,
      execute: () => i,
    });
  }
  return tasks;
}

/** A graph flow with random data dependencies: definition-time cost and run cost, measured apart. */
async function graphRandom(options: {
  n: number;
  maxRequires: number;
  seed: number;
}): Promise<BenchResult[]> {
  const buildMs: number[] = [];
  const compileMs: number[] = [];
  const totalMs: number[] = [];
  const runMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    collectGarbage();
    const started = performance.now();
    const flow = graphFlow('graph', randomGraphTasks(options));
    const built = performance.now();
    new Engine(flow).compile();
    const compiled = performance.now();
    buildMs.push(built - started);
    compileMs.push(compiled - built);
    totalMs.push(compiled - started);
    runMs.push(await timeRun(flow, 1));
  }
  const { n } = options;
  const name = `graph-random${options.maxRequires}deps`;
  return [
    summarise({ system: SYSTEM, workload: `${name}/build`, n, runsMs: buildMs }),
    summarise({ system: SYSTEM, workload: `${name}/compile+validate`, n, runsMs: compileMs }),
    summarise({ system: SYSTEM, workload: `${name}/build+compile+validate`, n, runsMs: totalMs }),
    summarise({ system: SYSTEM, workload: `${name}/run(c=1)`, n, runsMs: runMs }),
  ];
}

/** Runs one workload in a child process (same node flags) and waits for it. */
function runInChild(id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--workload', id], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--workload') {
    const workload = WORKLOADS.find((w) => w.id === argv[1]);
    if (!workload)
      throw new Error(
        `No workload "${argv[1]}"; choose one of ${WORKLOADS.map((w) => w.id).join(', ')}.`,
      );
    for (const result of await workload.measure()) printResult(result);
    return;
  }
  const unknown = argv.filter((id) => !WORKLOADS.some((w) => w.id === id));
  if (unknown.length > 0) {
    throw new Error(
      `Unknown workload ${unknown.join(', ')}; choose from ${WORKLOADS.map((w) => w.id).join(', ')}.`,
    );
  }
  const selected = argv.length > 0 ? WORKLOADS.filter((w) => argv.includes(w.id)) : WORKLOADS;
  for (const workload of selected) {
    const code = await runInChild(workload.id);
    if (code !== 0) {
      process.exitCode = code;
      process.stderr.write(`Workload "${workload.id}" exited with code ${code}.\n`);
    }
  }
}

await main(process.argv.slice(2));
