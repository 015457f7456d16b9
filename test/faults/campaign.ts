// The randomized, seeded fault campaign against conductor processes: shared by the CI test
// (conductor-campaign.test.ts) and the soak (scripts/fault-soak.ts). It posts a seeded mix of
// jobs over a time window, runs conductor processes (test/fixtures/fault-conductor.ts), kills
// some with SIGKILL (each replaced by a new process), pauses some with SIGSTOP for longer than
// the lease TTL (zombies) and optionally stops a server for a moment, then waits for every job,
// stops the conductors, reads the board and the run store and runs the checker.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  openSync,
  readFileSync,
  readSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Job, type JobBoard, openJobBoard, openRunStore } from '../../src/index.ts';
import {
  analyzeCampaign,
  type FinalJob,
  type LogLine,
  parseLog,
  type Takeover,
  takeovers,
  type Violation,
} from './checker.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/fault-conductor.ts', import.meta.url));

/** A server the campaign may stop for a moment: a private one, never the shared servers. */
export interface Outage {
  readonly what: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  readonly board: string;
  readonly runs: string;
  readonly outage?: Outage | undefined;
}

export interface CampaignOptions {
  readonly backend: Backend;
  /** Where the execution log goes. */
  readonly dir: string;
  readonly seed: number;
  readonly jobs: number;
  /** Conductor processes alive at once. */
  readonly conductors: number;
  readonly kills: number;
  readonly zombies: number;
  /** Jobs are posted during the first 70 % of this window, faults happen all through it. */
  readonly windowMs: number;
  /** The share of the jobs posted at once at the start (a backlog); the rest are spread. */
  readonly burst: number;
  readonly ttlMs: number;
  /**
   * Counted attempts before a job is dead-lettered. Only kills and zombies (and an outage,
   * which must not count at all) can cost a job an attempt, and the flows never fail in a way
   * that counts one, so this is set above the number of faults: no job can be dead-lettered
   * by design, and any DEAD_LETTER is infrastructure's fault (check f).
   */
  readonly maxAttempts: number;
  /** How long the server is down when the backend has an outage; 0 for none. */
  readonly outageMs: number;
  /** How long to wait for the last jobs after the window. */
  readonly settleMs: number;
  readonly progress?: (line: string) => void;
}

export interface CampaignResult {
  readonly seed: number;
  readonly logFile: string;
  readonly lines: readonly LogLine[];
  readonly malformed: number;
  readonly jobs: readonly FinalJob[];
  readonly violations: readonly Violation[];
  /** Stale task starts a pause between the engine's lease check and the task explains. */
  readonly notes: readonly string[];
  readonly takeovers: readonly Takeover[];
  readonly neverTaken: number;
  /** Conductor processes that exited without being killed or stopped, with their stderr. */
  readonly unexpectedExits: readonly string[];
  /** Everything the conductors wrote on stderr. */
  readonly stderr: readonly string[];
  readonly stats: {
    readonly kills: number;
    readonly zombies: number;
    readonly outages: number;
    readonly spawned: number;
    readonly windowMs: number;
    readonly settledMs: number;
    readonly elapsedMs: number;
    readonly taskStarts: number;
    readonly mix: Readonly<Record<string, number>>;
  };
}

/** A small seeded PRNG (mulberry32). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const between = (rand: () => number, low: number, high: number): number =>
  Math.floor(low + rand() * (high - low + 1));

interface PlannedJob {
  readonly at: number;
  readonly label: string;
  readonly flow: 'linear' | 'retried' | 'doomed';
  readonly kind: string;
  readonly expected: 'SUCCESS' | 'REVERTED';
  readonly store: { readonly [key: string]: string | number | boolean | number[] };
}

/** The job mix: linear 3-4 task flows, slow ones, flows retried once, flows that must revert. */
function planJobs(
  rand: () => number,
  count: number,
  windowMs: number,
  burst: number,
): PlannedJob[] {
  const jobs: PlannedJob[] = [];
  for (let i = 0; i < count; i++) {
    const label = `j${i}`;
    const at = i < count * burst ? 0 : Math.floor(rand() * windowMs * 0.7);
    const pick = rand();
    const quick = (n: number) => Array.from({ length: n }, () => between(rand, 20, 90));
    if (pick < 0.3) {
      const delays = quick(between(rand, 3, 4));
      jobs.push({
        at,
        label,
        flow: 'linear',
        kind: 'linear',
        expected: 'SUCCESS',
        store: { label, delays },
      });
    } else if (pick < 0.5) {
      const delays = Array.from({ length: between(rand, 3, 4) }, () => between(rand, 100, 400));
      jobs.push({
        at,
        label,
        flow: 'linear',
        kind: 'slow',
        expected: 'SUCCESS',
        store: { label, delays },
      });
    } else if (pick < 0.75) {
      jobs.push({
        at,
        label,
        flow: 'retried',
        kind: 'retried',
        expected: 'SUCCESS',
        store: { label, delays: quick(4) },
      });
    } else {
      const retried = rand() < 0.5;
      jobs.push({
        at,
        label,
        flow: 'doomed',
        kind: retried ? 'doomed-retried' : 'doomed',
        expected: 'REVERTED',
        store: { label, delays: quick(between(rand, 3, 4)), retried },
      });
    }
  }
  return jobs.sort((x, y) => x.at - y.at);
}

type Trigger = 'any' | 'claim' | 'execute-start' | 'execute-end' | 'revert-start';

interface PlannedFault {
  readonly at: number;
  readonly type: 'kill' | 'zombie' | 'outage';
  /** Kill or stop at a random moment, or just after the victim logs this. */
  readonly trigger: Trigger;
  /** Zombies: how long past the TTL the process stays stopped. */
  readonly overMs: number;
}

function planFaults(rand: () => number, options: CampaignOptions): PlannedFault[] {
  const faults: PlannedFault[] = [];
  const start = 800;
  const span = Math.max(1, options.windowMs - start);
  for (let i = 0; i < options.kills; i++) {
    const r = rand();
    const trigger: Trigger =
      r < 0.4 ? 'any' : r < 0.65 ? 'execute-start' : r < 0.9 ? 'execute-end' : 'revert-start';
    faults.push({ at: start + Math.floor(rand() * span), type: 'kill', trigger, overMs: 0 });
  }
  for (let i = 0; i < options.zombies; i++) {
    const r = rand();
    const trigger: Trigger =
      r < 0.45 ? 'execute-end' : r < 0.7 ? 'execute-start' : r < 0.85 ? 'claim' : 'revert-start';
    faults.push({
      at: start + Math.floor(rand() * span),
      type: 'zombie',
      trigger,
      overMs: between(rand, 150, 1500),
    });
  }
  if (options.backend.outage && options.outageMs > 0) {
    faults.push({
      at: Math.floor(options.windowMs * (0.3 + 0.4 * rand())),
      type: 'outage',
      trigger: 'any',
      overMs: 0,
    });
  }
  return faults.sort((x, y) => x.at - y.at);
}

interface Conductor {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  ready: boolean;
  stopped: boolean;
  /** Killed or stopped at the end on purpose. */
  doomed: boolean;
  readonly stderr: string[];
}

/** Reads what was appended to the log since the last call; knows what each process holds. */
class LogTail {
  readonly #file: string;
  #offset = 0;
  #partial = '';
  readonly held = new Map<number, Set<string>>();
  readonly recent: LogLine[] = [];

  constructor(file: string) {
    this.#file = file;
  }

  /** New complete lines since the last read. */
  read(): LogLine[] {
    const fd = openSync(this.#file, 'r');
    const fresh: LogLine[] = [];
    try {
      const buffer = Buffer.alloc(1 << 16);
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, this.#offset);
        if (n === 0) break;
        this.#offset += n;
        this.#partial += buffer.subarray(0, n).toString('utf8');
      }
    } finally {
      closeSync(fd);
    }
    const parts = this.#partial.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const raw of parts) {
      if (raw.trim() === '') continue;
      try {
        const line = { ...JSON.parse(raw), seq: -1 } as LogLine;
        fresh.push(line);
        this.#track(line);
      } catch {
        // A line cut short by a SIGKILL.
      }
    }
    return fresh;
  }

  #track(line: LogLine): void {
    const jobs = this.held.get(line.pid) ?? new Set<string>();
    this.held.set(line.pid, jobs);
    if (line.kind === 'board' && line.job) {
      if (line.op === 'claim' && line.ok) jobs.add(line.job);
      if ((line.op === 'consume' || line.op === 'abandon') && line.ok) jobs.delete(line.job);
    }
    if (line.kind === 'event' && line.job && line.type === 'lost') jobs.delete(line.job);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Runs one campaign; never throws for what the checker judges, only for a broken setup. */
export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const began = Date.now();
  const say = options.progress ?? (() => undefined);
  const rand = random(options.seed);
  const planned = planJobs(rand, options.jobs, options.windowMs, options.burst);
  const faults = planFaults(rand, options);
  const logFile = join(options.dir, `${options.backend.name}-${options.seed}.log`);
  writeFileSync(logFile, '');
  const tail = new LogTail(logFile);
  const fault = (type: string, victim?: Conductor) =>
    appendFileSync(
      logFile,
      `${JSON.stringify({ at: Date.now(), kind: 'fault', type, conductor: victim?.name ?? '', pid: victim?.child.pid ?? 0 })}\n`,
    );

  const board: JobBoard = await openJobBoard(options.backend.board);
  const runs = await openRunStore(options.backend.runs);
  const live = new Set<Conductor>();
  const all: Conductor[] = [];
  const unexpectedExits: string[] = [];
  let serial = 0;
  let finishing = false;
  const spawning = new Set<Promise<void>>();

  const spawnOne = (): Promise<void> => {
    const name = `c${++serial}`;
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      env: {
        ...process.env,
        BOARD_URL: options.backend.board,
        RUNS_URL: options.backend.runs,
        NAME: name,
        LOG: logFile,
        TTL_MS: String(options.ttlMs),
        CONCURRENCY: String(between(rand, 1, 2)),
        MAX_ATTEMPTS: String(options.maxAttempts),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const conductor: Conductor = {
      name,
      child,
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
      ready: false,
      stopped: false,
      doomed: false,
      stderr: [],
    };
    all.push(conductor);
    live.add(conductor);
    fault('spawn', conductor);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => conductor.stderr.push(chunk));
    const ready = new Promise<void>((resolve) => {
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        if (chunk.includes('ready')) {
          conductor.ready = true;
          resolve();
        }
      });
      void conductor.exited.then(() => resolve());
    });
    void conductor.exited.then(() => {
      live.delete(conductor);
      if (conductor.doomed || finishing) return;
      // It died by itself: record why and keep the number of conductors up.
      unexpectedExits.push(
        `${name} (pid ${child.pid}) exited with ${child.exitCode ?? child.signalCode}: ${conductor.stderr.join('').slice(0, 2000)}`,
      );
      track(spawnOne());
    });
    return ready;
  };
  const track = (promise: Promise<void>) => {
    spawning.add(promise);
    void promise.finally(() => spawning.delete(promise));
  };

  const running = () => [...live].filter((c) => c.ready && !c.stopped && !c.doomed);
  /**
   * A victim, preferably one holding a job, once at least one other conductor runs that can
   * take its jobs over (waiting up to 5 s for a replacement to start): otherwise a takeover
   * would measure how fast a process starts, not how fast a lease is taken over.
   */
  const pickVictim = async (): Promise<Conductor | undefined> => {
    const until = Date.now() + 5_000;
    while (running().length < 2 && Date.now() < until) await sleep(20);
    tail.read();
    const candidates = running();
    if (candidates.length < 2) return undefined;
    const busy = candidates.filter((c) => (tail.held.get(c.child.pid ?? 0)?.size ?? 0) > 0);
    const from = busy.length > 0 ? busy : candidates;
    return from[Math.floor(rand() * from.length)];
  };

  /** Waits (up to a second) until the victim logs what the trigger names. */
  const awaitTrigger = async (victim: Conductor, trigger: Trigger): Promise<void> => {
    if (trigger === 'any') return;
    const [phase, edge] = trigger.split('-');
    const wanted = (line: LogLine): boolean =>
      line.pid === victim.child.pid &&
      (trigger === 'claim'
        ? line.kind === 'board' && line.op === 'claim' && line.ok
        : line.kind === 'task' && line.phase === phase && line.edge === edge);
    tail.read();
    const until = Date.now() + 1_000;
    while (Date.now() < until) {
      const seen = tail.read().some(wanted);
      if (seen) return;
      await sleep(2);
    }
  };

  let kills = 0;
  let zombies = 0;
  let outages = 0;
  const conts = new Set<Promise<void>>();
  const posted: { job: Job; plan: PlannedJob }[] = [];
  const started = Date.now();
  try {
    await Promise.all(Array.from({ length: options.conductors }, () => spawnOne()));
    say(
      `${options.backend.name}: ${options.conductors} conductors ready in ${Date.now() - started} ms`,
    );
    const t0 = Date.now();

    const posting = (async () => {
      for (const plan of planned) {
        await sleep(t0 + plan.at - Date.now());
        for (let tries = 0; ; tries++) {
          try {
            const job = await board.post({
              name: plan.label,
              flow: { name: plan.flow, version: '1' },
              store: { ...plan.store, expect: plan.expected, kind: plan.kind },
              idempotencyKey: `${options.seed}-${plan.label}`,
            });
            posted.push({ job, plan });
            break;
          } catch (error) {
            // The server is down for the outage: post again once it is back.
            if (tries > 200) throw error;
            await sleep(100);
          }
        }
      }
    })();

    for (const next of faults) {
      await sleep(t0 + next.at - Date.now());
      if (next.type === 'outage') {
        const outage = options.backend.outage;
        if (!outage) continue;
        fault('outage-start');
        await outage.stop();
        say(`${options.backend.name}: ${outage.what} down for ${options.outageMs} ms`);
        await sleep(options.outageMs);
        await outage.start();
        fault('outage-end');
        outages++;
        continue;
      }
      const victim = await pickVictim();
      if (!victim) continue;
      await awaitTrigger(victim, next.trigger);
      if (victim.stopped || victim.doomed || !live.has(victim) || running().length < 2) continue;
      if (next.type === 'kill') {
        victim.doomed = true;
        fault('kill', victim);
        victim.child.kill('SIGKILL');
        kills++;
        track(victim.exited.then(() => spawnOne()));
      } else {
        victim.stopped = true;
        fault('stop', victim);
        victim.child.kill('SIGSTOP');
        zombies++;
        const cont = sleep(options.ttlMs + next.overMs).then(() => {
          fault('cont', victim);
          victim.child.kill('SIGCONT');
          victim.stopped = false;
        });
        conts.add(cont);
      }
    }
    await posting;
    await Promise.all(conts);
    while (spawning.size > 0) await Promise.all([...spawning]);
    const windowMs = Date.now() - t0;
    say(
      `${options.backend.name}: window over after ${windowMs} ms (${kills} kills, ${zombies} zombies, ${outages} outages); settling`,
    );

    const settleStart = Date.now();
    const deadline = settleStart + options.settleMs;
    for (;;) {
      const states = await Promise.all(
        posted.map(({ job }) => board.get(job.id).catch(() => undefined)),
      );
      const open = states.filter((job) => job?.state === 'UNCLAIMED' || job?.state === 'CLAIMED');
      if (open.length === 0 || Date.now() > deadline) break;
      await sleep(200);
    }
    const settledMs = Date.now() - settleStart;

    finishing = true;
    for (const conductor of live) {
      conductor.child.kill('SIGCONT');
      conductor.child.kill('SIGTERM');
    }
    await Promise.race([
      Promise.all(all.map((c) => c.exited)),
      sleep(10_000).then(() => {
        for (const conductor of live) conductor.child.kill('SIGKILL');
      }),
    ]);
    await Promise.all(all.map((c) => c.exited));

    const jobs: FinalJob[] = [];
    for (const { job, plan } of posted) {
      const now = await board.get(job.id);
      const run = await runs.loadRun(job.id);
      jobs.push({
        id: job.id,
        label: plan.label,
        flow: plan.kind,
        expected: plan.expected,
        state: now?.state ?? 'MISSING',
        outcome: now?.outcome?.state ?? null,
        owner: now?.owner ?? null,
        token: now?.token ?? 0,
        attempts: now?.attempts ?? 0,
        updatedAt: now?.updatedAt ?? 0,
        deadLetterReason: now?.deadLetterReason ?? null,
        runState: run?.flow.state ?? null,
      });
    }
    // Kept next to the log, so the checker can be run again on both (npm run soak -- --recheck).
    writeFileSync(`${logFile}.jobs.json`, JSON.stringify(jobs, null, 1));
    const { lines, malformed } = parseLog(readFileSync(logFile, 'utf8'));
    const { violations, notes } = analyzeCampaign({ lines, jobs });
    const taken = takeovers(lines);
    const mix: Record<string, number> = {};
    for (const plan of planned) mix[plan.kind] = (mix[plan.kind] ?? 0) + 1;
    return {
      seed: options.seed,
      logFile,
      lines,
      malformed,
      jobs,
      violations,
      notes,
      takeovers: taken.takeovers,
      neverTaken: taken.neverTaken,
      unexpectedExits,
      stderr: all.flatMap((c) => c.stderr.map((chunk) => `${c.name}: ${chunk}`)),
      stats: {
        kills,
        zombies,
        outages,
        spawned: serial,
        windowMs,
        settledMs,
        elapsedMs: Date.now() - began,
        taskStarts: lines.filter((l) => l.kind === 'task' && l.edge === 'start').length,
        mix,
      },
    };
  } finally {
    finishing = true;
    for (const conductor of all) {
      conductor.child.kill('SIGCONT');
      conductor.child.kill('SIGKILL');
    }
    await board.close().catch(() => undefined);
    await runs.close().catch(() => undefined);
  }
}
