import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AlwaysRevert,
  AlwaysRevertAll,
  CaptureListener,
  Engine,
  ForEach,
  linearFlow,
  NoValuesLeftError,
  ParameterizedForEach,
  Retry,
  type RetryDecision,
  type RetryHistory,
  Times,
  task,
} from '../../src/index.ts';
import { FakeClock } from '../../src/testing/index.ts';
import { type CallLog, capture, recording } from '../support/tasks.ts';

/** A task that fails unless the symbol `x` equals `target`. */
const conditional = (name: string, target: number, log: CallLog) =>
  task({
    name,
    requires: ['x'],
    execute: ({ x }: { x: number }) => {
      log.push(`${name}(${x})`);
      if (x !== target) throw new Error(`Woot with ${x}`);
      return x;
    },
  });

describe('retries', () => {
  test('Times(4) retries its flow until the task succeeds with the second attempt', async () => {
    const log: CallLog = [];
    const flow = linearFlow('flow-1', [recording('task1', log), conditional('task2', 2, log)], {
      retry: new Times({ name: 'r1', attempts: 4, provides: 'x' }),
    });
    const listener = new CaptureListener();
    const engine = new Engine(flow, { listeners: [listener.listener] });
    await engine.run();
    assert.deepEqual(listener.lines(), [
      'flow-1.f RUNNING',
      'r1.r RUNNING',
      'r1.r SUCCESS(1)',
      'task1.t RUNNING',
      'task1.t SUCCESS("task1")',
      'task2.t RUNNING',
      'task2.t FAILURE(Error: Woot with 1)',
      'task2.t REVERTING',
      'task2.t REVERTED(undefined)',
      'task1.t REVERTING',
      'task1.t REVERTED("task1 undone")',
      'r1.r RETRYING',
      'task1.t PENDING',
      'task2.t PENDING',
      'r1.r RUNNING',
      'r1.r SUCCESS(2)',
      'task1.t RUNNING',
      'task1.t SUCCESS("task1")',
      'task2.t RUNNING',
      'task2.t SUCCESS(2)',
      'flow-1.f SUCCESS',
    ]);
    assert.deepEqual(engine.outputs(), { x: 2 });
  });

  test('Times(3) around a task that always fails makes three attempts, then reverts the flow and the retry', async () => {
    const log: CallLog = [];
    const flow = linearFlow(
      'flow-1',
      [recording('task1', log), recording('fail', log, { fail: true })],
      {
        retry: new Times({ name: 'r1', attempts: 3, provides: 'x' }),
      },
    );
    const { engine, lines, error } = await capture(flow);
    assert.equal((error as Error).message, 'Woot from fail');
    assert.equal(log.filter((entry) => entry === 'fail').length, 3);
    assert.deepEqual(lines.slice(-7), [
      'fail.t REVERTING',
      'fail.t REVERTED',
      'task1.t REVERTING',
      'task1.t REVERTED',
      'r1.r REVERTING',
      'r1.r REVERTED',
      'flow-1.f REVERTED',
    ]);
    assert.equal(engine.atom('r1').state, 'REVERTED');
  });

  test('an inner retry retries only its own subflow', async () => {
    const log: CallLog = [];
    let calls = 0;
    const flaky = task({
      name: 'flaky',
      execute: () => {
        log.push('flaky');
        if (++calls < 3) throw new Error('not yet');
      },
    });
    const flow = linearFlow(
      'outer',
      [
        recording('before', log),
        linearFlow('inner', [recording('in1', log), flaky], {
          retry: new Times({ name: 'ri', attempts: 3 }),
        }),
      ],
      { retry: new Times({ name: 'ro', attempts: 2 }) },
    );
    await new Engine(flow).run();
    assert.deepEqual(log, [
      'before',
      'in1',
      'flaky',
      'in1~',
      'in1',
      'flaky',
      'in1~',
      'in1',
      'flaky',
    ]);
  });

  test('a failure after the inner flow is retried by the outer retry from the start', async () => {
    const log: CallLog = [];
    let calls = 0;
    const after = task({
      name: 'after',
      execute: () => {
        log.push('after');
        if (++calls < 2) throw new Error('once');
      },
    });
    const flow = linearFlow(
      'outer',
      [
        recording('before', log),
        linearFlow('inner', [recording('in1', log)], {
          retry: new Times({ name: 'ri', attempts: 3 }),
        }),
        after,
      ],
      { retry: new Times({ name: 'ro', attempts: 2 }) },
    );
    await new Engine(flow).run();
    assert.deepEqual(log, ['before', 'in1', 'after', 'in1~', 'before~', 'before', 'in1', 'after']);
  });

  test('REVERT_ALL from an inner retry reverts everything, ignoring the outer retry', async () => {
    const log: CallLog = [];
    const flow = linearFlow(
      'outer',
      [
        recording('before', log),
        linearFlow('inner', [recording('fail', log, { fail: true })], {
          retry: new AlwaysRevertAll({ name: 'ri' }),
        }),
      ],
      { retry: new Times({ name: 'ro', attempts: 5 }) },
    );
    const { engine, error } = await capture(flow);
    assert.ok(error instanceof Error);
    assert.deepEqual(log, ['before', 'fail', 'fail~', 'before~']);
    assert.equal(engine.atom('ro').state, 'REVERTED');
  });

  test('REVERT from a nested retry escalates to the enclosing retry, which retries the whole flow', async () => {
    const log: CallLog = [];
    const flow = linearFlow(
      'outer',
      [
        recording('t0', log),
        linearFlow('inner', [recording('fail', log, { fail: true })], {
          retry: new AlwaysRevert({ name: 'ri' }),
        }),
      ],
      { retry: new Times({ name: 'ro', attempts: 2 }) },
    );
    const { engine, error } = await capture(flow);
    assert.equal((error as Error).message, 'Woot from fail');
    assert.deepEqual(log, ['t0', 'fail', 'fail~', 't0~', 't0', 'fail', 'fail~', 't0~']);
    assert.equal(engine.atom('t0').state, 'REVERTED');
    assert.equal(engine.state, 'REVERTED');
  });

  test('with revertScope "subflow" a nested REVERT reverts only that subflow, as TaskFlow does by default', async () => {
    const log: CallLog = [];
    const flow = linearFlow('outer', [
      recording('t0', log),
      linearFlow('inner', [recording('fail', log, { fail: true })], {
        retry: new Times({ name: 'ri', attempts: 2 }),
      }),
      recording('t3', log),
    ]);
    const { engine, error } = await capture(flow, { revertScope: 'subflow' });
    assert.ok(error instanceof Error);
    assert.deepEqual(log, ['t0', 'fail', 'fail~', 'fail', 'fail~']);
    assert.equal(engine.atom('t0').state, 'SUCCESS');
    assert.equal(engine.atom('t3').state, 'PENDING');
    assert.equal(engine.atom('ri').state, 'REVERTED');
    assert.equal(engine.state, 'REVERTED');
  });

  test('ForEach tries each value in order, duplicates included', async () => {
    const log: CallLog = [];
    const flow = linearFlow('f', [conditional('vt', 2, log)], {
      retry: new ForEach({ name: 'r', values: [1, 1, 2], provides: 'x' }),
    });
    await new Engine(flow).run();
    assert.deepEqual(log, ['vt(1)', 'vt(1)', 'vt(2)']);
  });

  test('ForEach with an empty collection fails the retry and reverts the whole flow', async () => {
    const log: CallLog = [];
    const flow = linearFlow('outer', [
      recording('before', log),
      linearFlow('inner', [recording('t1', log)], {
        retry: new ForEach({ name: 'r', values: [], provides: 'x' }),
      }),
    ]);
    const { engine, error } = await capture(flow);
    assert.ok(error instanceof NoValuesLeftError);
    assert.match(error.message, /empty collection/);
    assert.deepEqual(log, ['before', 'before~']);
    assert.equal(engine.atom('t1').state, 'PENDING');
  });

  test('ParameterizedForEach takes its values from a symbol', async () => {
    const log: CallLog = [];
    const flow = linearFlow('f', [conditional('vt', 3, log)], {
      retry: new ParameterizedForEach<number>({
        name: 'r',
        rebind: { values: 'candidates' },
        provides: 'x',
      }),
    });
    await new Engine(flow, { store: { candidates: [5, 3, 9] } }).run();
    assert.deepEqual(log, ['vt(5)', 'vt(3)']);
  });

  test('a custom retry sees the history of attempts with their failures', async () => {
    const seen: string[][] = [];
    class Twice extends Retry {
      execute(history: RetryHistory): number {
        return history.length;
      }
      onFailure(history: RetryHistory): RetryDecision {
        seen.push(
          history.map((attempt) => `${attempt.result}:${Object.keys(attempt.failures).join(',')}`),
        );
        return history.length < 2 ? 'RETRY' : 'REVERT';
      }
    }
    const log: CallLog = [];
    const flow = linearFlow('f', [recording('boom', log, { fail: true })], {
      retry: new Twice({ name: 'twice' }),
    });
    await assert.rejects(new Engine(flow).run(), /Woot from boom/);
    assert.deepEqual(seen, [['0:boom'], ['0:boom', '1:boom']]);
  });

  test('Times waits with exponential backoff and jitter between attempts', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const flaky = task({
      name: 'flaky',
      execute: () => {
        if (++calls < 4) throw new Error('again');
        return calls;
      },
    });
    const flow = linearFlow('f', [flaky], {
      retry: new Times({
        name: 'r',
        attempts: 5,
        backoff: { initialMs: 100, factor: 2, maxMs: 300 },
      }),
    });
    const run = new Engine(flow, { clock, random: () => 1 }).run();
    await clock.advance(1_000);
    const result = await run;
    assert.equal(result.state, 'SUCCESS');
    assert.deepEqual(clock.sleeps, [100, 200, 300]);
    const halfJitter = new Times({ name: 'j', attempts: 2, backoff: { initialMs: 100 } });
    assert.equal(
      halfJitter.delayMs([{ result: 1, failures: {} }], () => 0),
      50,
    );
  });

  test('stale failures from an earlier attempt are cleared when the retry resets its flow', async () => {
    let calls = 0;
    const flaky = task({
      name: 'flaky',
      execute: () => {
        if (++calls < 2) throw new Error('first only');
      },
    });
    const engine = new Engine(
      linearFlow('f', [flaky], { retry: new Times({ name: 'r', attempts: 3 }) }),
    );
    await engine.run();
    assert.equal(engine.atom('flaky').failure, undefined);
    assert.equal(engine.atom('flaky').state, 'SUCCESS');
  });
});
