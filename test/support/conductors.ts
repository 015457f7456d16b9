import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Conductor, type ConductorOptions, type Job, type JobBoard } from '../../src/index.ts';

const CHILD = fileURLToPath(new URL('../fixtures/conductor-child.ts', import.meta.url));

/** A conductor running in its own process, with what it printed. */
export interface ConductorProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<void>;
  killedAt?: number;
}

export function startConductor(
  name: string,
  env: Record<string, string>,
): Promise<ConductorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ...env, NAME: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let ready: () => void = () => undefined;
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      output.push(line);
      if (line === 'ready') ready();
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => output.push(`stderr ${chunk}`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return Promise.race([isReady, exited]).then(() => ({ name, child, output, exited }));
}

export interface Execution {
  readonly job: string;
  readonly task: string;
  readonly owner: string;
  readonly start: number;
  end: number | undefined;
}

/** Parses the side-effect log into executions of each task of each job. */
export function readExecutions(file: string): Execution[] {
  const executions: Execution[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const [at, kind, job = '', task = '', owner = ''] = line.split(' ');
    if (kind === 'start') executions.push({ job, task, owner, start: Number(at), end: undefined });
    if (kind === 'end') {
      const open = executions.findLast(
        (e) => e.job === job && e.task === task && e.owner === owner && e.end === undefined,
      );
      if (open) open.end = Number(at);
    }
  }
  return executions;
}

/**
 * Checks the executions: no task of a job ran under two owners at the same time, and every
 * execution but the last of a task belongs to an owner that was killed (the atom in flight).
 */
export function checkExecutions(
  executions: readonly Execution[],
  killedAt: ReadonlyMap<string, number>,
): void {
  const byTask = new Map<string, Execution[]>();
  for (const e of executions)
    byTask.set(`${e.job}/${e.task}`, [...(byTask.get(`${e.job}/${e.task}`) ?? []), e]);
  for (const [key, runs] of byTask) {
    runs.sort((a, b) => a.start - b.start);
    for (let i = 0; i + 1 < runs.length; i++) {
      const earlier = runs[i] as Execution;
      const later = runs[i + 1] as Execution;
      const killed = killedAt.get(earlier.owner);
      assert.ok(
        killed !== undefined,
        `${key} ran again after ${earlier.owner}, which was not killed: ${JSON.stringify(runs)}`,
      );
      const earlierEnd = earlier.end ?? killed;
      assert.ok(
        earlier.owner === later.owner || earlierEnd <= later.start,
        `${key} ran under ${earlier.owner} and ${later.owner} at the same time`,
      );
    }
  }
}

/** Waits until every job is COMPLETE or DEAD_LETTER and returns them. */
export async function waitForAll(
  board: JobBoard,
  jobs: readonly Job[],
  timeoutMs: number,
): Promise<Job[]> {
  return Promise.all(jobs.map((job) => board.wait(job.id, { timeoutMs })));
}

/**
 * Runs `body` while an in-process conductor runs (claim polling every 20 ms unless told
 * otherwise), then stops it and waits for it to finish, whatever `body` did.
 */
export async function withConductor<T>(
  options: ConductorOptions,
  body: (conductor: Conductor) => Promise<T>,
): Promise<T> {
  const conductor = new Conductor({ claimWaitMs: 20, ...options });
  const running = conductor.run();
  try {
    return await body(conductor);
  } finally {
    await conductor.stop();
    await running;
  }
}
