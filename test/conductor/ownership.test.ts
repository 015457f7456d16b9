import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Conductor,
  type ConductorEvent,
  createMemoryJobBoard,
  createMemoryRunStore,
  Engine,
  FlowRegistry,
  type JobBoard,
  type JobClaimer,
  type LeaseFence,
  linearFlow,
  type RunJournal,
  StorageError,
  task,
} from '../../src/index.ts';

// A process paused by SIGSTOP sends nothing and hears nothing: here a "paused" conductor is
// one whose board and run store calls are held at a gate until the test opens it, while the
// rest of the world (another conductor) goes on.

interface Gate {
  readonly closed: () => boolean;
  wait(): Promise<void>;
  close(): void;
  open(): void;
}

function gate(): Gate {
  let closed = false;
  let release: () => void = () => undefined;
  let opened = Promise.resolve();
  return {
    closed: () => closed,
    wait: () => opened,
    close() {
      closed = true;
      opened = new Promise<void>((resolve) => {
        release = resolve;
      });
    },
    open() {
      closed = false;
      release();
    },
  };
}

interface PauseOptions {
  /** Closes the gate once this call has been answered, as if the process stopped right then. */
  readonly pauseAfter?: (method: string, args: readonly unknown[]) => boolean;
  /** Calls that take this long after the gate opens, as a heartbeat's round trip does. */
  readonly slow?: ReadonlySet<string>;
}

const ROUND_TRIP_MS = 60;

/**
 * Every call of `target` waits while the gate is closed, and its caller hears nothing until
 * the gate opens: a process paused by SIGSTOP, as its board or run store sees it.
 */
function paused<T extends object>(target: T, pause: Gate, options: PauseOptions = {}): T {
  return new Proxy(target, {
    get(object, key) {
      const value = Reflect.get(object, key);
      if (typeof value !== 'function') return value;
      const method = String(key);
      return async (...args: unknown[]) => {
        await pause.wait();
        if (options.slow?.has(method)) await sleep(ROUND_TRIP_MS);
        const result = await value.apply(object, args);
        if (options.pauseAfter?.(method, args)) pause.close();
        await pause.wait();
        return result;
      };
    },
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Execution {
  readonly conductor: string;
  readonly atom: string;
  readonly phase: 'execute' | 'revert';
  readonly lease: LeaseFence | undefined;
}

function registry(log: Execution[], options: { readonly failAt?: string } = {}): FlowRegistry {
  const step = (name: string) =>
    task({
      name,
      execute: (_inputs, context) => {
        log.push({
          conductor: currentConductor,
          atom: name,
          phase: 'execute',
          lease: context.lease,
        });
        if (options.failAt === name) throw new Error(`${name} failed`);
        return name;
      },
      revert: (_inputs, context) => {
        log.push({
          conductor: currentConductor,
          atom: name,
          phase: 'revert',
          lease: context.lease,
        });
      },
    });
  return new FlowRegistry().register({
    name: 'steps',
    version: '1',
    build: () => linearFlow('steps', [step('one'), step('two'), step('three')]),
  });
}

/**
 * Which conductor runs the code: the one whose engine last said an atom starts, which an engine
 * publishes right before it calls the atom's code (all conductors here share one process).
 */
let currentConductor = '';

const TTL = 300;

function conductor(
  name: string,
  board: JobClaimer,
  runs: RunJournal,
  flows: FlowRegistry,
  events: ConductorEvent[] = [],
): Conductor {
  return new Conductor({
    name,
    board,
    runs,
    registry: flows,
    leaseTtlMs: TTL,
    claimWaitMs: 20,
    maxAttempts: 2,
    onEvent: (event) => events.push(event),
    engine: {
      listeners: [
        (event) => {
          if (event.type === 'atom' && (event.to === 'RUNNING' || event.to === 'REVERTING'))
            currentConductor = name;
        },
      ],
    },
  });
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('one owner per job', () => {
  test('a conductor paused right after its "task starting" write does not start the task once it wakes', async () => {
    const board: JobBoard = createMemoryJobBoard({ recheckMs: 10 });
    const runs = createMemoryRunStore();
    const log: Execution[] = [];
    const flows = registry(log);
    const pause = gate();
    let pausedAfterStart = false;
    const heartbeats = new Set(['extend', 'renewLease']);
    // Conductor A stops as soon as its intention to run "two" is acknowledged.
    const runsOfA = paused(runs, pause, {
      slow: heartbeats,
      pauseAfter: (method, args) => {
        const details =
          method === 'saveAtoms' ? (args[1] as { name: string; state: string }[]) : [];
        if (pausedAfterStart || !details.some((d) => d.name === 'two' && d.state === 'RUNNING'))
          return false;
        pausedAfterStart = true;
        return true;
      },
    });
    const a = conductor('a', paused(board, pause, { slow: heartbeats }), runsOfA, flows);
    const job = await board.post({ name: 'job', flow: { name: 'steps', version: '1' } });
    const runningA = a.run();
    await until(() => pausedAfterStart, 'conductor a to pause');
    // While A sleeps, its claim expires and B takes the job over and completes it.
    const b = conductor('b', board, runs, flows);
    const runningB = b.run();
    const done = await board.wait(job.id, { timeoutMs: 10_000 });
    assert.equal(done.state, 'COMPLETE');
    await b.stop();
    await runningB;
    pause.open();
    await sleep(TTL);
    await a.stop();
    await runningA;
    const twos = log.filter((e) => e.atom === 'two');
    assert.deepEqual(
      twos.map((e) => e.conductor),
      ['b'],
      'only the conductor that holds the claim runs "two"',
    );
    const run = await runs.loadRun(job.id);
    assert.equal(run?.flow.state, 'SUCCESS');
  });

  test('a conductor paused before executing anything leaves a job finished meanwhile as it is', async () => {
    const board: JobBoard = createMemoryJobBoard({ recheckMs: 10 });
    const runs = createMemoryRunStore();
    const log: Execution[] = [];
    const flows = registry(log, { failAt: 'three' });
    const pause = gate();
    let loadedByA = false;
    const heartbeats = new Set(['extend', 'renewLease']);
    // A opens the (still empty) run under its lease and then stops before doing anything with
    // what it read.
    const runsOfA = paused(runs, pause, {
      slow: heartbeats,
      pauseAfter: (method) => {
        if (method !== 'openRun' || loadedByA) return false;
        loadedByA = true;
        return true;
      },
    });
    const a = conductor('a', paused(board, pause, { slow: heartbeats }), runsOfA, flows);
    const job = await board.post({ name: 'job', flow: { name: 'steps', version: '1' } });
    const runningA = a.run();
    await until(() => loadedByA, 'conductor a to pause');
    const b = conductor('b', board, runs, flows);
    const runningB = b.run();
    const done = await board.wait(job.id, { timeoutMs: 10_000 });
    assert.equal(done.outcome?.state, 'REVERTED');
    await b.stop();
    await runningB;
    const before = log.length;
    pause.open();
    await sleep(TTL);
    await a.stop();
    await runningA;
    assert.equal(
      log.length,
      before,
      `A ran task code after waking: ${JSON.stringify(log.slice(before))}`,
    );
    const run = await runs.loadRun(job.id);
    assert.equal(run?.flow.state, 'REVERTED', 'the finished run is not reset or rewritten');
    assert.deepEqual(
      run?.atoms.map((atom) => atom.state),
      ['REVERTED', 'REVERTED', 'REVERTED'],
    );
  });

  test('a conductor paused mid-revert past its lease writes nothing when it wakes, though the new owner has not opened the run yet', {
    timeout: 20_000,
  }, async () => {
    const board: JobBoard = createMemoryJobBoard({ recheckMs: 10 });
    const runs = createMemoryRunStore();
    const log: Execution[] = [];
    const pause = gate();
    const reverting = gate();
    reverting.close();
    let revertsOfTwo = 0;
    const flows = new FlowRegistry().register({
      name: 'steps',
      version: '1',
      build: () =>
        linearFlow('steps', [
          task({
            name: 'one',
            execute: () =>
              void log.push({
                conductor: currentConductor,
                atom: 'one',
                phase: 'execute',
                lease: undefined,
              }),
            revert: () =>
              void log.push({
                conductor: currentConductor,
                atom: 'one',
                phase: 'revert',
                lease: undefined,
              }),
          }),
          task({
            name: 'two',
            execute: () => {
              log.push({
                conductor: currentConductor,
                atom: 'two',
                phase: 'execute',
                lease: undefined,
              });
              throw new Error('two failed');
            },
            revert: async () => {
              log.push({
                conductor: currentConductor,
                atom: 'two',
                phase: 'revert',
                lease: undefined,
              });
              // The first revert of "two" is in flight when its process stops.
              if (revertsOfTwo++ === 0) {
                pause.close();
                await reverting.wait();
              }
            },
          }),
        ]),
    });
    const heartbeats = new Set(['extend', 'renewLease']);
    const runsOfA = paused(runs, pause, { slow: heartbeats });
    const eventsOfA: ConductorEvent[] = [];
    const a = conductor('a', paused(board, pause, { slow: heartbeats }), runsOfA, flows, eventsOfA);
    const job = await board.post({ name: 'job', flow: { name: 'steps', version: '1' } });
    const runningA = a.run();
    await until(() => revertsOfTwo === 1, 'conductor a to pause mid-revert');
    // B takes the job over once A's claim expires, but is slow to open the run: the store's
    // fence still has A's token when A wakes.
    const opening = gate();
    opening.close();
    const runsOfB = new Proxy(runs, {
      get(object, key) {
        const value = Reflect.get(object, key);
        if (typeof value !== 'function') return value;
        if (key !== 'openRun') return value.bind(object);
        return async (...args: unknown[]) => {
          await opening.wait();
          return value.apply(object, args);
        };
      },
    });
    const b = conductor('b', board, runsOfB, flows);
    const runningB = b.run();
    await until(async () => (await board.get(job.id))?.owner === 'b', 'b to claim the job');
    pause.open();
    reverting.open();
    await until(() => eventsOfA.some((e) => e.type === 'lost'), 'a to find its claim lost');
    await a.stop();
    await runningA;
    const meanwhile = await runs.loadRun(job.id);
    assert.equal(
      meanwhile?.atoms.find((atom) => atom.name === 'two')?.state,
      'REVERTING',
      'the stale owner wrote no revert result',
    );
    opening.open();
    const done = await board.wait(job.id, { timeoutMs: 10_000 });

    assert.equal(done.outcome?.state, 'REVERTED');
    await b.stop();
    await runningB;
    assert.deepEqual(
      log.filter((e) => e.phase === 'revert').map((e) => `${e.conductor} ${e.atom}`),
      ['a two', 'b two', 'b one'],
      'the owner that holds the claim reverts "two" again, then "one"',
    );
  });

  test('a run store outage under a live board is waited out: no attempt is counted, no job dead-lettered', async () => {
    const board: JobBoard = createMemoryJobBoard({ recheckMs: 10 });
    const runs = createMemoryRunStore();
    const log: Execution[] = [];
    const flows = registry(log);
    let down = true;
    let refused = 0;
    const flaky = new Proxy(runs, {
      get(object, key) {
        const value = Reflect.get(object, key);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          if (down) {
            refused++;
            throw new StorageError('STORAGE_UNAVAILABLE', 'the run store is down');
          }
          return value.apply(object, args);
        };
      },
    });
    const events: ConductorEvent[] = [];
    const a = conductor('a', board, flaky, flows, events);
    const jobs = await Promise.all(
      ['x', 'y', 'z'].map((name) => board.post({ name, flow: { name: 'steps', version: '1' } })),
    );
    const running = a.run();
    await until(() => refused >= 20, 'the conductor to meet the outage');
    down = false;
    const finished = await Promise.all(
      jobs.map((job) => board.wait(job.id, { timeoutMs: 20_000 })),
    );
    await a.stop();
    await running;
    for (const job of finished) {
      assert.equal(job.state, 'COMPLETE');
      assert.equal(job.outcome?.state, 'SUCCESS');
      assert.equal(job.attempts, 0, "an outage is not the job's fault");
    }
    const abandons = events.filter((e) => e.type === 'abandoned').length;
    assert.ok(abandons >= 1, 'jobs met during the outage were given back');
  });

  test('task code sees the claim token as its lease; a plain persisted engine its run lease; in memory none', async () => {
    const board: JobBoard = createMemoryJobBoard({ recheckMs: 10 });
    const runs = createMemoryRunStore();
    const log: Execution[] = [];
    const flows = registry(log);
    const events: ConductorEvent[] = [];
    const a = conductor('a', board, runs, flows, events);
    const job = await board.post({ name: 'job', flow: { name: 'steps', version: '1' } });
    const running = a.run();
    await board.wait(job.id, { timeoutMs: 10_000 });
    await a.stop();
    await running;
    const claimed = events.find((e) => e.type === 'claimed');
    assert.ok(claimed?.type === 'claimed');
    for (const execution of log) {
      assert.equal(execution.lease?.token, claimed.token);
      assert.ok((execution.lease?.validUntil ?? 0) > Date.now() - 10 * TTL);
    }

    const seen: (LeaseFence | undefined)[] = [];
    const probe = task({ name: 'probe', execute: (_i, context) => void seen.push(context.lease) });
    const store = createMemoryRunStore();
    await new Engine(linearFlow('p', [probe]), {
      persistence: { runs: store, flowId: 'p1' },
    }).run();
    const lease = await store.acquireLease('p1', 'someone', 1000);
    assert.equal(seen[0]?.token, lease.token - 1, 'the engine ran under the lease before this one');
    await new Engine(linearFlow('p', [probe])).run();
    assert.equal(seen[1], undefined);
  });
});
