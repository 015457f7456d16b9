/**
 * Executors benchmark (issue #13): a CPU-bound task (chained SHA-256 hashes, as many as take
 * `ms` on one core, calibrated at start, then the same fixed work every time) × N in an
 * unordered flow, run in the engine's own thread and then on the worker-thread pool
 * (ThreadExecutor, one thread per core), with the same concurrency. Prints one JSON line per
 * workload and the speed-up; target ≥ 1.8× on 2 cores.
 *
 *   node --import tsx bench/workers.bench.ts [--tasks 64] [--ms 50] [--runs 3]
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { ThreadExecutor } from '../src/executors/index.ts';
import { Engine, unorderedFlow } from '../src/index.ts';
import { hashRounds, tasks } from './fixtures/cpu-tasks.ts';
import { median, peakRssMb } from './support.ts';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '64' },
    ms: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
  },
});
const n = Number(values.tasks);
const ms = Number(values.ms);
const runs = Number(values.runs);
const cores = availableParallelism();
/** Hash rounds that take `ms` here, measured in this thread. */
const rounds = (() => {
  const sample = 20_000;
  hashRounds(sample); // warm, so the measurement is of compiled code
  const started = performance.now();
  hashRounds(sample);
  return Math.round((sample * ms) / (performance.now() - started));
})();

const flow = () => unorderedFlow('burn-all', tasks.slice(0, n));

async function time(
  label: string,
  options: ConstructorParameters<typeof Engine>[1],
): Promise<number> {
  const walls: number[] = [];
  // A first run warms up (the threads load and compile the tasks module); it is not counted.
  await new Engine(flow(), { ...options, store: { rounds: 1 }, concurrency: n }).run();
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await new Engine(flow(), { ...options, store: { rounds }, concurrency: n }).run();
    walls.push(performance.now() - started);
  }
  const wall = median(walls);
  console.log(
    JSON.stringify({
      system: 'taskflow-ts',
      workload: `${label}(${n}x${ms}ms cpu)`,
      n,
      wall_ms: Math.round(wall),
      per_item_us: Math.round((wall / n) * 1000),
      peak_rss_mb: peakRssMb(),
    }),
  );
  return wall;
}

const inProcess = await time('in-process', {
  executors: { threads: { run: (request) => Promise.resolve(request.inProcess()) } },
});
const threads = new ThreadExecutor({
  tasks: new URL('./fixtures/cpu-tasks.ts', import.meta.url),
  preload: [new URL('./fixtures/typescript-loader.mjs', import.meta.url)],
  maxThreads: cores,
  minThreads: cores,
});
try {
  const pooled = await time(`thread-pool(${cores} threads)`, { executors: { threads } });
  console.log(
    JSON.stringify({ workload: 'speed-up', cores, ratio: Number((inProcess / pooled).toFixed(2)) }),
  );
} finally {
  await threads.close();
}
