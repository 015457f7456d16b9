// A conductor process for bench/conductor.bench.ts: a 3-task linear flow of no-op tasks.
// Environment: BOARD_URL, RUNS_URL, NAME, EFFECTS (file each task start and end is appended to,
// in the format test/support/conductors.ts `readExecutions` parses), TTL_MS, CONCURRENCY,
// optional RECHECK_MS (board recheck while waiting; the board's default 1 s when unset),
// CLAIM_WAIT_MS (the conductor's default 1 s when unset) and SLOW_MS: when set, the first
// execution of task "two" of each job sleeps that long (later executions, after a takeover, do
// not), so a benchmark can kill the owner while it holds the job.
// Prints `ready`, then one line per conductor event: `<epoch ms, µs precision> <type> <job id>`,
// and `rss <peak MiB>` when it stops. Stops gracefully on SIGTERM.
import { appendFileSync, closeSync, openSync } from 'node:fs';
import {
  Conductor,
  FlowRegistry,
  linearFlow,
  openJobBoard,
  openRunStore,
  task,
} from '../src/index.ts';

const env = (key: string): string => {
  const value = process.env[key];
  if (value === undefined) throw new Error(`bench/conductor-child.ts needs ${key}`);
  return value;
};
const optional = (key: string): number | undefined =>
  process.env[key] === undefined ? undefined : Number(process.env[key]);

// Epoch milliseconds with sub-millisecond precision, comparable across processes.
const stamp = (): string => (performance.timeOrigin + performance.now()).toFixed(3);

const name = env('NAME');
const effects = env('EFFECTS');
const slowMs = optional('SLOW_MS') ?? 0;
const log = (line: string): void => appendFileSync(effects, `${stamp()} ${line}\n`);

/** True only for the first execution of a job's slow step, on any conductor. */
function firstExecution(job: string): boolean {
  try {
    closeSync(openSync(`${effects}.${job}.slow`, 'wx'));
    return true;
  } catch {
    return false;
  }
}

const step = (label: string) =>
  task({
    name: label,
    requires: ['job'],
    execute: async ({ job }: { job: string }) => {
      log(`start ${job} ${label} ${name}`);
      if (slowMs > 0 && label === 'two' && firstExecution(job)) {
        await new Promise((resolve) => setTimeout(resolve, slowMs));
      }
      log(`end ${job} ${label} ${name}`);
    },
  });

const registry = new FlowRegistry().register({
  name: 'noop3',
  version: '1',
  build: () => linearFlow('noop3', [step('one'), step('two'), step('three')]),
});
const recheckMs = optional('RECHECK_MS');
const claimWaitMs = optional('CLAIM_WAIT_MS');
const board = await openJobBoard(env('BOARD_URL'), recheckMs === undefined ? {} : { recheckMs });
const runs = await openRunStore(env('RUNS_URL'));
const conductor = new Conductor({
  name,
  board,
  runs,
  registry,
  concurrency: Number(env('CONCURRENCY')),
  leaseTtlMs: Number(env('TTL_MS')),
  ...(claimWaitMs === undefined ? {} : { claimWaitMs }),
  onEvent: (event) => {
    const job = 'job' in event ? event.job.id : 'jobId' in event ? event.jobId : '-';
    const detail =
      event.type === 'error' || event.type === 'lost'
        ? ` ${String(event.error).replaceAll('\n', ' ')}`
        : event.type === 'abandoned'
          ? ` ${event.reason.replaceAll('\n', ' ')}`
          : '';
    process.stdout.write(`${stamp()} ${event.type} ${job}${detail}\n`);
  },
});
process.stdout.write('ready\n');
await conductor.run({ stopOnSignals: true });
await board.close();
await runs.close();
process.stdout.write(`rss ${(process.resourceUsage().maxRSS / 1024).toFixed(1)}\n`);
