/**
 * The jobs workload, once for every system: N jobs are already posted; `start` spawns two worker
 * processes that all speak the protocol of bench/conductor-child.ts (print `ready`, then
 * `<epoch ms> claimed <job>` and `<epoch ms> completed <job>` on stdout; append
 * `<epoch ms> start|end <job> <step> <worker>` to the EFFECTS file), so taskflow-ts runs its own
 * bench/conductor-child.ts unchanged and the peers run workers that print the same lines.
 * `wall_ms` runs from the first `claimed` to the last `completed` (the children's clocks).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { checkExecutions, readExecutions } from '../../test/support/conductors.ts';

export const STEPS = ['one', 'two', 'three'] as const;

export interface Worker {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<void>;
}

/** Spawns `node --import tsx <script> ...args` and waits for it to print `ready`. */
export async function startWorker(
  name: string,
  script: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, ...env, NAME: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (buffered + chunk).split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => lines.push(`stderr ${chunk}`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const worker = { name, child, lines, exited };
  await until(`${name} to start`, 60_000, () => lines.includes('ready'), worker);
  return worker;
}

export async function until(
  what: string,
  timeoutMs: number,
  done: () => boolean,
  worker?: Worker,
): Promise<void> {
  let gone = false;
  void worker?.exited.then(() => {
    gone = true;
  });
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (gone) {
      const said = worker?.lines.join(' | ').slice(0, 600);
      throw new Error(`${worker?.name} exited while waiting for ${what}; it printed: ${said}`);
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** `<stamp> <type> <job>` lines of the given type, as [stamp, job]. */
export function events(workers: readonly Worker[], type: string): [number, string][] {
  return workers.flatMap((w) =>
    w.lines
      .map((line) => line.split(' '))
      .filter((parts) => parts[1] === type)
      .map((parts): [number, string] => [Number(parts[0]), parts[2] ?? '']),
  );
}

export interface JobsResult {
  readonly wall_ms: number;
  readonly per_second: number;
  /** "ok", or what the checks found. */
  readonly checked: string;
  readonly jobs_per_worker: string;
  /** Between the two workers' first claims (they are not started in lockstep). */
  readonly start_skew_ms: number;
}

/**
 * Runs the jobs workload: the jobs are posted already; starts the workers, waits for `jobs`
 * completions, checks the side-effect log (each step of each job executed once, and ended) and
 * the completions (each job once), then `verify` (the system's own view: every job complete),
 * and stops the workers with SIGTERM. `lastCompletion` may move the end later (DBOS commits the
 * workflow's status after its function returned).
 */
export async function runJobs(options: {
  readonly jobs: number;
  readonly effects: string;
  readonly start: () => Promise<Worker[]>;
  readonly verify: () => Promise<string | undefined>;
  readonly lastCompletion?: () => Promise<number>;
}): Promise<JobsResult> {
  writeFileSync(options.effects, '');
  const workers = await options.start();
  try {
    await until(
      `${options.jobs} completions`,
      600_000,
      () => events(workers, 'completed').length >= options.jobs,
    );
    const claims = events(workers, 'claimed');
    const completions = events(workers, 'completed');
    const first = Math.min(...claims.map(([at]) => at));
    let last = Math.max(...completions.map(([at]) => at));
    if (options.lastCompletion) last = Math.max(last, await options.lastCompletion());
    const wall = last - first;
    const firsts = workers.map((w) => Math.min(...events([w], 'claimed').map(([at]) => at)));
    const problems: string[] = [];
    const executions = readExecutions(options.effects);
    try {
      checkExecutions(executions, new Map());
    } catch (error) {
      problems.push(String(error).slice(0, 200));
    }
    const perStep = new Map<string, number>();
    for (const e of executions) {
      if (e.end === undefined) problems.push(`${e.job}/${e.task} never ended`);
      perStep.set(`${e.job}/${e.task}`, (perStep.get(`${e.job}/${e.task}`) ?? 0) + 1);
    }
    const twice = [...perStep.values()].filter((count) => count > 1).length;
    if (perStep.size !== options.jobs * STEPS.length || twice > 0)
      problems.push(`${perStep.size} steps executed, ${twice} of them more than once`);
    const perJob = new Map<string, number>();
    for (const [, job] of completions) perJob.set(job, (perJob.get(job) ?? 0) + 1);
    const again = [...perJob.values()].filter((count) => count > 1).length;
    if (perJob.size !== options.jobs || again > 0)
      problems.push(`${perJob.size} jobs completed, ${again} of them more than once`);
    const verdict = await options.verify();
    if (verdict !== undefined) problems.push(verdict);
    for (const w of workers)
      for (const line of w.lines)
        if (/^(stderr|\S+ (error|lost|abandoned) )/.test(line))
          problems.push(`${w.name}: ${line.slice(0, 200)}`);
    return {
      wall_ms: Math.round(wall * 10) / 10,
      per_second: Math.round(options.jobs / (wall / 1000)),
      checked: problems.length === 0 ? 'ok' : problems.slice(0, 3).join('; '),
      jobs_per_worker: workers.map((w) => events([w], 'completed').length).join('/'),
      start_skew_ms: Math.round(Math.max(...firsts) - Math.min(...firsts)),
    };
  } finally {
    for (const w of workers) w.child.kill('SIGTERM');
    const stopped = Promise.all(workers.map((w) => w.exited));
    const timeout = new Promise((resolve) => setTimeout(resolve, 10_000));
    await Promise.race([stopped, timeout]);
    for (const w of workers) w.child.kill('SIGKILL');
  }
}

/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
export const stamp = (): string => (performance.timeOrigin + performance.now()).toFixed(3);

/** The version of a package installed in bench/peers/node_modules. */
export function installedVersion(name: string): string {
  const file = new URL(`./node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
