import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CaptureListener,
  DurationListener,
  Engine,
  type EngineEvent,
  linearFlow,
  loggingListener,
  mapTask,
  printingListener,
  reduceTask,
  runFlow,
  TaskTimeoutError,
  Times,
  task,
  unorderedFlow,
} from '../../src/index.ts';
import { type CallLog, recording } from '../support/tasks.ts';

describe('suspend, continue and reset', () => {
  test('suspending when b succeeds leaves c PENDING, and running again runs only c', async () => {
    const log: CallLog = [];
    const capture = new CaptureListener();
    const engine = new Engine(
      linearFlow('f', [recording('a', log), recording('b', log), recording('c', log)]),
      {
        listeners: [capture.listener],
      },
    );
    engine.subscribe((event) => {
      if (event.type === 'atom' && event.atom === 'b' && event.to === 'SUCCESS') engine.suspend();
    });
    const first = await engine.run();
    assert.equal(first.state, 'SUSPENDED');
    assert.equal(engine.atom('c').state, 'PENDING');
    assert.deepEqual(capture.lines({ withValues: false }).slice(-2), [
      'f.f SUSPENDING',
      'f.f SUSPENDED',
    ]);
    capture.clear();
    const second = await engine.run();
    assert.equal(second.state, 'SUCCESS');
    assert.deepEqual(log, ['a', 'b', 'c']);
    assert.deepEqual(capture.lines({ withValues: false }), [
      'f.f RUNNING',
      'c.t RUNNING',
      'c.t SUCCESS',
      'f.f SUCCESS',
    ]);
  });

  test('suspending during a revert finishes the revert on the next run', async () => {
    const log: CallLog = [];
    const engine = new Engine(
      linearFlow('f', [
        recording('a', log),
        recording('b', log),
        recording('fail', log, { fail: true }),
      ]),
    );
    engine.subscribe((event) => {
      if (event.type === 'atom' && event.atom === 'b' && event.to === 'REVERTED') engine.suspend();
    });
    const first = await engine.run();
    assert.equal(first.state, 'SUSPENDED');
    assert.equal(engine.atom('a').state, 'SUCCESS');
    await assert.rejects(engine.run(), /Woot from fail/);
    assert.deepEqual(log, ['a', 'b', 'fail', 'fail~', 'b~', 'a~']);
    assert.equal(engine.state, 'REVERTED');
  });

  test('rerunning a finished flow does nothing until reset; after reset the same events repeat', async () => {
    const log: CallLog = [];
    const capture = new CaptureListener();
    const engine = new Engine(linearFlow('f', [recording('a', log), recording('b', log)]), {
      listeners: [capture.listener],
    });
    await engine.run();
    const firstRun = capture.lines();
    capture.clear();
    await engine.run();
    assert.deepEqual(capture.lines(), []);
    assert.deepEqual(log, ['a', 'b']);
    await engine.reset();
    assert.deepEqual(capture.lines(), ['a.t PENDING', 'b.t PENDING', 'f.f PENDING']);
    capture.clear();
    await engine.run();
    assert.deepEqual(capture.lines(), firstRun);
    assert.deepEqual(log, ['a', 'b', 'a', 'b']);
  });

  test('a timer can suspend a long run of synchronous tasks: the engine gives the event loop turns', async () => {
    const flow = linearFlow(
      'f',
      Array.from({ length: 20_000 }, (_, i) => task({ name: `t${i}`, execute: () => i })),
    );
    const engine = new Engine(flow);
    setTimeout(() => engine.suspend(), 0);
    const result = await engine.run();
    assert.equal(result.state, 'SUSPENDED');
    const done = engine.atoms().filter((atom) => atom.state === 'SUCCESS').length;
    assert.ok(done > 0 && done < 20_000, `${done} of 20000 atoms ran before the suspend`);
  });

  test('halt-on-failure stops without reverting, and a later run resolves the failure', async () => {
    const log: CallLog = [];
    const flow = linearFlow('f', [
      recording('a', log),
      recording('fail', log, { fail: true }),
      recording('c', log),
    ]);
    const engine = new Engine(flow, { haltOnFailure: true });
    await assert.rejects(engine.run(), /Woot from fail/);
    assert.equal(engine.state, 'FAILURE');
    assert.equal(engine.atom('a').state, 'SUCCESS');
    assert.equal(engine.atom('fail').state, 'FAILURE');
    assert.deepEqual(log, ['a', 'fail']);
  });
});

describe('timeouts, signals and progress', () => {
  test('a task exceeding its timeout fails with a timeout failure, its signal fires, and it is reverted', async () => {
    let aborted: unknown;
    let reverted = false;
    const slow = task({
      name: 'slow',
      timeoutMs: 20,
      execute: (_inputs, { signal }) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
            resolve('late');
          });
        }),
      revert: () => {
        reverted = true;
      },
    });
    const engine = new Engine(linearFlow('f', [slow]));
    await assert.rejects(engine.run(), TaskTimeoutError);
    assert.ok(aborted instanceof TaskTimeoutError);
    assert.equal(reverted, true);
    assert.equal(engine.atom('slow').failure?.type, 'TaskTimeoutError');
  });

  test('a task that reports 5 progress updates delivers start (0) and end (1) around them', async () => {
    const progress: number[] = [];
    const worker = task({
      name: 'worker',
      execute: (_inputs, context) => {
        for (const value of [0.1, 0.3, 0.5, 0.7, 0.9]) context.progress(value);
      },
    });
    await new Engine(linearFlow('f', [worker]), {
      listeners: [(event) => event.type === 'progress' && progress.push(event.progress)],
    }).run();
    assert.deepEqual(progress, [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1]);
  });

  test('each execution knows its attempt number and a stable idempotency key', async () => {
    const seen: string[] = [];
    let calls = 0;
    const flaky = task({
      name: 'charge',
      execute: (_inputs, { attempt, idempotencyKey }) => {
        seen.push(`${attempt}:${idempotencyKey}`);
        if (++calls < 2) throw new Error('once');
      },
    });
    await new Engine(linearFlow('f', [flaky], { retry: new Times({ name: 'r', attempts: 2 }) }), {
      runId: 'run-1',
    }).run();
    assert.deepEqual(seen, ['1:run-1:charge', '2:run-1:charge']);
  });
});

describe('helpers and listeners', () => {
  test('map and reduce tasks apply a function to each value and fold them', async () => {
    const flow = linearFlow('f', [
      mapTask({
        name: 'square',
        requires: ['a', 'b', 'c'],
        provides: ['a2', 'b2', 'c2'],
        map: (x: number) => x * x,
      }),
      reduceTask({
        name: 'sum',
        requires: ['a2', 'b2', 'c2'],
        provides: 'total',
        initial: 0,
        reduce: (acc: number, x: number) => acc + x,
      }),
    ]);
    const outputs = await runFlow(flow, { store: { a: 1, b: 2, c: 3 } });
    assert.deepEqual(outputs, { a2: 1, b2: 4, c2: 9, total: 14 });
  });

  test('logging, printing and duration listeners describe the run', async () => {
    const info: string[] = [];
    const warn: string[] = [];
    const printed: string[] = [];
    const durations = new DurationListener();
    const flow = unorderedFlow('u', [
      recording('ok', [], { delayMs: 20 }),
      recording('bad', [], { fail: true }),
    ]);
    await assert.rejects(
      new Engine(flow, {
        listeners: [
          loggingListener({ info: (line) => info.push(line), warn: (line) => warn.push(line) }),
          printingListener((line) => printed.push(line)),
          durations.listener,
        ],
      }).run(),
    );
    assert.ok(warn.includes('bad.t FAILURE(Error: Woot from bad)'));
    assert.ok(warn.includes('u.f REVERTED'));
    assert.ok(info.includes('ok.t RUNNING'));
    assert.ok(printed.length >= info.length + warn.length);
    // "ok" waits 20 ms in execute: its measured time covers that, and the run covers both.
    const ok = durations.durations.get('ok');
    assert.ok((ok?.executeMs ?? 0) >= 15, `executeMs ${ok?.executeMs}`);
    assert.ok(
      Number.isFinite(ok?.revertMs) && (ok?.revertMs ?? -1) >= 0,
      `revertMs ${ok?.revertMs}`,
    );
    assert.ok((durations.flowMs ?? 0) >= (ok?.executeMs ?? 0), `flowMs ${durations.flowMs}`);
  });

  test('statistics count what the run did', async () => {
    const engine = new Engine(
      linearFlow('f', [recording('a', []), recording('fail', [], { fail: true })]),
    );
    await assert.rejects(engine.run());
    const { executed, succeeded, failed, reverted } = engine.statistics;
    assert.deepEqual(
      { executed, succeeded, failed, reverted },
      { executed: 2, succeeded: 1, failed: 1, reverted: 2 },
    );
    assert.ok(engine.statistics.runMs > 0);
  });

  test('retry decisions are published as events', async () => {
    const events: EngineEvent[] = [];
    const flow = linearFlow('f', [recording('fail', [], { fail: true })], {
      retry: new Times({ name: 'r', attempts: 2 }),
    });
    await assert.rejects(new Engine(flow, { listeners: [(event) => events.push(event)] }).run());
    const decisions = events.flatMap((event) =>
      event.type === 'retry' ? [`${event.decision}@${event.attempt}`] : [],
    );
    assert.deepEqual(decisions, ['RETRY@1', 'REVERT@2']);
  });
});
