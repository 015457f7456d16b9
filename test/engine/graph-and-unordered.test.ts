import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type DeciderDepth,
  Engine,
  graphFlow,
  linearFlow,
  task,
  unorderedFlow,
} from '../../src/index.ts';
import { type CallLog, capture, recording } from '../support/tasks.ts';

describe('graph and unordered flows', () => {
  test('tasks added out of order run in dependency order and revert in reverse', async () => {
    const log: CallLog = [];
    const flow = graphFlow('g', [
      recording('c', log, { requires: ['b'], provides: 'c' }),
      recording('fail', log, { requires: ['c'], fail: true }),
      recording('b', log, { requires: ['a'], provides: 'b' }),
      recording('a', log, { provides: 'a' }),
    ]);
    const { error } = await capture(flow);
    assert.ok(error instanceof Error);
    assert.deepEqual(log, ['a', 'b', 'c', 'fail', 'fail~', 'c~', 'b~', 'a~']);
  });

  test('a failure in an unordered subflow reverts its siblings that ran, then the earlier atoms', async () => {
    const log: CallLog = [];
    const flow = linearFlow('f', [
      recording('x', log),
      unorderedFlow('u', [
        recording('a', log),
        recording('fail', log, { fail: true }),
        recording('b', log),
      ]),
    ]);
    const { engine, error } = await capture(flow);
    assert.ok(error instanceof Error);
    assert.deepEqual(log, ['x', 'a', 'fail', 'fail~', 'a~', 'x~']);
    assert.equal(engine.atom('b').state, 'PENDING', 'nothing starts once a failure is recorded');
  });

  test('priorities order the atoms that are ready at the same moment; ties keep definition order', async () => {
    const log: CallLog = [];
    const flow = unorderedFlow('u', [
      recording('low', log, { priority: -1 }),
      recording('first', log),
      recording('high', log, { priority: 5 }),
      recording('second', log),
    ]);
    await capture(flow);
    assert.deepEqual(log, ['high', 'first', 'second', 'low']);
  });

  test('two concurrent failures in an unordered flow are both reported', async () => {
    const log: CallLog = [];
    const flow = unorderedFlow('u', [
      recording('f1', log, { fail: 'first', delayMs: 5 }),
      recording('f2', log, { fail: 'second', delayMs: 10 }),
      recording('ok', log, { delayMs: 1 }),
    ]);
    const { engine, error } = await capture(flow, { concurrency: 3 });
    assert.ok(error instanceof Error && 'failures' in error);
    const messages = (error as unknown as { failures: { message: string }[] }).failures
      .map((f) => f.message)
      .sort();
    assert.deepEqual(messages, ['first', 'second']);
    for (const name of ['f1', 'f2', 'ok']) assert.equal(engine.atom(name).state, 'REVERTED');
  });

  test('independent branches of a graph run at the same time up to the concurrency limit', async () => {
    let running = 0;
    let peak = 0;
    const slow = (name: string) =>
      task({
        name,
        execute: async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running--;
        },
      });
    await new Engine(graphFlow('g', [slow('a'), slow('b'), slow('c'), slow('d')]), {
      concurrency: 3,
    }).run();
    assert.equal(peak, 3);
    peak = 0;
    await new Engine(graphFlow('g', [slow('a'), slow('b'), slow('c')])).run();
    assert.equal(peak, 1, 'concurrency 1 runs one atom at a time');
  });
});

describe('deciders', () => {
  const build = (depth: DeciderDepth, log: CallLog) =>
    linearFlow('outer', [
      graphFlow('g', [
        recording('a', log),
        recording('b', log),
        recording('c', log),
        recording('d', log),
      ])
        .link('a', 'b', { decider: () => false, depth })
        .link('b', 'c')
        .link('c', 'd'),
      recording('z', log),
    ]);

  for (const [depth, ran, ignored] of [
    ['ALL', ['a'], ['b', 'c', 'd', 'z']],
    ['FLOW', ['a', 'z'], ['b', 'c', 'd']],
    ['NEIGHBORS', ['a', 'd', 'z'], ['b', 'c']],
    ['ATOM', ['a', 'c', 'd', 'z'], ['b']],
  ] as const) {
    test(`a "no" at depth ${depth} ignores ${ignored.join(', ')} and the flow still succeeds`, async () => {
      const log: CallLog = [];
      const { engine, lines, error } = await capture(build(depth, log));
      assert.equal(error, undefined);
      assert.deepEqual(log, ran);
      for (const name of ignored) assert.equal(engine.atom(name).state, 'IGNORE');
      assert.ok(lines.includes('b.t IGNORE'));
      assert.equal(engine.state, 'SUCCESS');
    });
  }

  test('a decider sees the results of the link sources, and any "no" into a join wins', async () => {
    const log: CallLog = [];
    const histories: unknown[] = [];
    const flow = graphFlow('g', [
      recording('a', log, { result: 1 }),
      recording('x', log, { result: 2 }),
      recording('b', log),
    ])
      .link('a', 'b', {
        decider: (history) => {
          histories.push(history);
          return true;
        },
      })
      .link('x', 'b', { decider: () => false, depth: 'ATOM' });
    const { engine } = await capture(flow);
    assert.equal(engine.atom('b').state, 'IGNORE');
    assert.deepEqual(histories, [{ a: 1, x: 2 }]);
  });

  test('a link whose source was ignored does not vote', async () => {
    const log: CallLog = [];
    const flow = graphFlow('g', [recording('a', log), recording('b', log), recording('c', log)])
      .link('a', 'b', { decider: () => false, depth: 'ATOM' })
      .link('b', 'c', { decider: () => false });
    const { engine } = await capture(flow);
    assert.deepEqual(log, ['a', 'c']);
    assert.equal(engine.atom('c').state, 'SUCCESS');
  });

  test('a decider on a link into a subflow stands for its first atom at depth ATOM', async () => {
    const log: CallLog = [];
    const flow = graphFlow('g', [
      recording('a', log),
      linearFlow('sub', [recording('b1', log), recording('b2', log)]),
      recording('c', log),
    ])
      .link('a', 'sub', { decider: () => false, depth: 'ATOM' })
      .link('sub', 'c');
    await capture(flow);
    assert.deepEqual(log, ['a', 'b2', 'c']);
  });

  test('reset puts ignored atoms back to PENDING and deciders are asked again', async () => {
    const log: CallLog = [];
    let answer = false;
    const flow = graphFlow('g', [recording('a', log), recording('b', log)]).link('a', 'b', {
      decider: () => answer,
    });
    const engine = new Engine(flow);
    await engine.run();
    assert.equal(engine.atom('b').state, 'IGNORE');
    await engine.reset();
    assert.equal(engine.atom('b').state, 'PENDING');
    answer = true;
    await engine.run();
    assert.equal(engine.atom('b').state, 'SUCCESS');
  });
});
