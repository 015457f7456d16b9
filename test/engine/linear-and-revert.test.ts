import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaptureListener, Engine, linearFlow, task } from '../../src/index.ts';
import { type CallLog, capture, recording } from '../support/tasks.ts';

describe('linear flows and reverting', () => {
  test('a linear flow runs its tasks in order and succeeds', async () => {
    const log: CallLog = [];
    const { lines, error } = await capture(
      linearFlow('f', [recording('t1', log), recording('t2', log)]),
    );
    assert.equal(error, undefined);
    assert.deepEqual(lines, [
      'f.f RUNNING',
      't1.t RUNNING',
      't1.t SUCCESS',
      't2.t RUNNING',
      't2.t SUCCESS',
      'f.f SUCCESS',
    ]);
  });

  test('a failure reverts what ran, newest first, and the run rejects with the original error', async () => {
    const log: CallLog = [];
    const flow = linearFlow('f', [
      recording('t1', log),
      linearFlow('inner', [recording('t2', log), recording('fail', log, { fail: true })]),
    ]);
    const { engine, lines, error } = await capture(flow);
    assert.ok(error instanceof Error);
    assert.equal(error.message, 'Woot from fail');
    assert.deepEqual(log, ['t1', 't2', 'fail', 'fail~', 't2~', 't1~']);
    assert.deepEqual(lines.slice(-7), [
      'fail.t REVERTING',
      'fail.t REVERTED',
      't2.t REVERTING',
      't2.t REVERTED',
      't1.t REVERTING',
      't1.t REVERTED',
      'f.f REVERTED',
    ]);
    assert.equal(engine.state, 'REVERTED');
  });

  test('atoms that never ran are not reverted and stay PENDING', async () => {
    const log: CallLog = [];
    const { engine, error } = await capture(
      linearFlow('f', [recording('fail', log, { fail: true }), recording('never', log)]),
    );
    assert.ok(error instanceof Error);
    assert.deepEqual(log, ['fail', 'fail~']);
    assert.equal(engine.atom('never').state, 'PENDING');
    assert.equal(engine.atom('fail').state, 'REVERTED');
  });

  test('a revert that throws ends the flow FAILURE, reports the revert error and keeps it on the atom', async () => {
    const log: CallLog = [];
    const flow = linearFlow('f', [
      recording('first', log),
      recording('nasty', log, { revertFails: true }),
      recording('fail', log, { fail: true }),
    ]);
    const { engine, lines, error } = await capture(flow);
    assert.ok(error instanceof Error);
    assert.equal(error.message, 'Gotcha from nasty revert');
    assert.equal(engine.state, 'FAILURE');
    assert.equal(engine.atom('nasty').state, 'REVERT_FAILURE');
    assert.equal(engine.atom('nasty').revertFailure?.message, 'Gotcha from nasty revert');
    assert.equal(
      engine.atom('first').state,
      'SUCCESS',
      'no further reverts start after a revert failure',
    );
    assert.deepEqual(log, ['first', 'nasty', 'fail', 'fail~', 'nasty~']);
    assert.equal(lines.at(-1), 'f.f FAILURE');
  });

  test('revert results are kept and results of reverted atoms are no longer visible', async () => {
    const log: CallLog = [];
    const { engine } = await capture(
      linearFlow('f', [
        recording('t1', log, { provides: 'x', result: 7 }),
        recording('fail', log, { fail: true }),
      ]),
    );
    const t1 = engine.atom('t1');
    assert.equal(t1.state, 'REVERTED');
    assert.equal(t1.revertResult, 't1 undone');
    assert.equal(t1.result, undefined);
    assert.deepEqual(engine.outputs(), {});
  });

  test('the failing task receives its own failure and every task receives its own result when reverting', async () => {
    const seen: Record<string, unknown> = {};
    const flow = linearFlow('f', [
      task({
        name: 'ok',
        provides: 'x',
        execute: () => 41,
        revert: (_inputs, { outcome, flowFailures }) => {
          seen.ok = { outcome, failures: [...flowFailures.keys()] };
        },
      }),
      task({
        name: 'bad',
        execute: () => {
          throw new RangeError('too big');
        },
        revert: (_inputs, { outcome, flowFailures }) => {
          seen.bad = {
            ok: outcome.ok,
            type: outcome.ok ? undefined : outcome.failure.type,
            failures: [...flowFailures.keys()],
          };
        },
      }),
    ]);
    await assert.rejects(new Engine(flow).run(), RangeError);
    assert.deepEqual(seen.bad, { ok: false, type: 'RangeError', failures: ['bad'] });
    assert.deepEqual(seen.ok, { outcome: { ok: true, result: 41 }, failures: ['bad'] });
  });

  test('a listener that throws never breaks the run', async () => {
    const reported: unknown[] = [];
    const engine = new Engine(linearFlow('f', [task({ name: 'a', execute: () => 1 })]), {
      listeners: [
        () => {
          throw new Error('listener bug');
        },
      ],
      onError: (error) => reported.push(error),
    });
    const result = await engine.run();
    assert.equal(result.state, 'SUCCESS');
    assert.ok(reported.length > 0);
    assert.equal((reported[0] as Error).message, 'listener bug');
  });

  test('capture lines carry results and failures when asked', async () => {
    const listener = new CaptureListener();
    const flow = linearFlow('f', [task({ name: 'a', provides: 'x', execute: () => 5 })]);
    await new Engine(flow, { listeners: [listener.listener] }).run();
    assert.deepEqual(listener.lines(), [
      'f.f RUNNING',
      'a.t RUNNING',
      'a.t SUCCESS(5)',
      'f.f SUCCESS',
    ]);
  });
});
