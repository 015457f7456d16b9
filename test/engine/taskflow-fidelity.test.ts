import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  AlwaysRevert,
  AlwaysRevertAll,
  createMemoryRunStore,
  Engine,
  Failure,
  FlowRegistry,
  fetchRun,
  linearFlow,
  type RetryDecision,
  type RetryHistory,
  TaskFlowError,
  Times,
  task,
  unorderedFlow,
} from '../../src/index.ts';
import { buildFlow, Recorder } from '../differential/build.ts';
import { generateCase } from '../differential/generator.ts';
import { type CallLog, recording } from '../support/tasks.ts';

// Where this engine agrees with TaskFlow's serial engine, case by case (issue: "Agree with
// TaskFlow"), and the options that keep a deliberate difference reachable.

/** A task that fails on the given execute attempts (1-based) and logs like `recording`. */
function failingOn(name: string, log: CallLog, attempts: readonly number[], priority: number) {
  let calls = 0;
  return task({
    name,
    priority,
    execute: () => {
      calls++;
      log.push(name);
      if (attempts.includes(calls)) throw new Error(`${name} failed on #${calls}`);
      return name;
    },
    revert: () => void log.push(`${name}~`),
  });
}

async function settle(engine: Engine): Promise<unknown> {
  try {
    await engine.run();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('agreement with TaskFlow', () => {
  test('atoms inside a retried flow wait for the retry to run again, whatever their priority', async () => {
    const log: CallLog = [];
    const retry = new Times({ name: 'r', attempts: 2, priority: 1 });
    const originalExecute = retry.execute.bind(retry);
    retry.execute = (...args: Parameters<Times['execute']>) => {
      log.push('r');
      return originalExecute(...args);
    };
    const flow = unorderedFlow(
      'u',
      [failingOn('a', log, [1], 3), recording('b', log, { priority: 2 })],
      {
        retry,
      },
    );
    const engine = new Engine(flow);
    await engine.run();
    assert.deepEqual(log, ['r', 'a', 'a~', 'r', 'a', 'b']);
    assert.equal(engine.state, 'SUCCESS');
  });

  test('a serial run goes in steps: every atom ready at once runs before what they make ready', async () => {
    const log: CallLog = [];
    const flow = unorderedFlow('u', [
      linearFlow('l', [recording('a', log, { priority: 3 }), recording('b', log, { priority: 4 })]),
      recording('c', log, { priority: 2 }),
    ]);
    await new Engine(flow).run();
    assert.deepEqual(log, ['a', 'c', 'b']);
  });

  test('a revert that fails does not stop the reverts ready beside it: the independent atom is compensated', async () => {
    const log: CallLog = [];
    const flow = unorderedFlow('u', [
      recording('a', log, { priority: 2 }),
      recording('b', log, { priority: 1, fail: true, revertFails: true }),
    ]);
    const engine = new Engine(flow);
    const error = await settle(engine);
    assert.ok(error instanceof Error);
    assert.equal(engine.state, 'FAILURE');
    assert.equal(engine.atom('a').state, 'REVERTED');
    assert.equal(engine.atom('b').state, 'REVERT_FAILURE');
    assert.deepEqual(log, ['a', 'b', 'b~', 'a~']);
  });

  test("revertScope 'subflow' reverts the retry's flow and lets the unrelated branch finish", async () => {
    const log: CallLog = [];
    const flow = unorderedFlow('u', [
      linearFlow('f', [recording('a', log, { fail: true })], {
        retry: new AlwaysRevert({ name: 'r' }),
      }),
      linearFlow('g', [recording('b', log), recording('c', log), recording('d', log)]),
    ]);
    const engine = new Engine(flow, { revertScope: 'subflow' });
    const error = await settle(engine);
    assert.match(String(error), /Woot from a/);
    assert.equal(engine.state, 'REVERTED');
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((name) => engine.atom(name).state),
      ['REVERTED', 'SUCCESS', 'SUCCESS', 'SUCCESS'],
    );
  });

  test('reverts go newest first across a suspend and continue, as in an uninterrupted run', async () => {
    for (const persisted of [false, true]) {
      const log: CallLog = [];
      const build = () =>
        unorderedFlow('u', [
          recording('a', log, { priority: 3 }),
          recording('b', log, { priority: 2 }),
          recording('c', log, { priority: 1, fail: true }),
        ]);
      const runs = createMemoryRunStore();
      const persistence = persisted ? { persistence: { runs, flowId: 'run-1' } } : {};
      const first = new Engine(build(), {
        ...persistence,
        listeners: [
          (event) => {
            if (event.type === 'atom' && event.atom === 'b' && event.to === 'SUCCESS')
              first.suspend();
          },
        ],
      });
      assert.equal((await first.run()).state, 'SUSPENDED');
      // A new engine on the stored run is what another process would do.
      const second = persisted ? new Engine(build(), persistence) : first;
      await settle(second);
      assert.deepEqual(log, ['a', 'b', 'c', 'c~', 'b~', 'a~'], `persisted: ${persisted}`);
    }
  });

  test('every failure that a REVERT_ALL under way resolves is in the retry history', async () => {
    const log: CallLog = [];
    const histories: string[][] = [];
    // The base class takes no arguments; the engine passes the history all the same.
    class Asked extends AlwaysRevertAll {
      override onFailure(history?: RetryHistory): RetryDecision {
        histories.push(Object.keys(history?.at(-1)?.failures ?? {}).sort());
        return super.onFailure();
      }
    }
    const retry = new Asked({ name: 'r' });
    const flow = unorderedFlow(
      'u',
      [
        recording('a', log, { fail: true, delayMs: 5 }),
        recording('b', log, { fail: true, revertFails: true, delayMs: 20 }),
      ],
      { retry },
    );
    const engine = new Engine(flow, { concurrency: 4 });
    await settle(engine);
    const recorded = engine.atom('r').history;
    assert.deepEqual(Object.keys(recorded.at(-1)?.failures ?? {}).sort(), ['a', 'b']);
    assert.deepEqual(histories, [['a'], ['a', 'b']], 'the retry was asked about each failure');
  });

  test('failFast: false runs the rest of a serial step before reverting, as TaskFlow', async () => {
    for (const failFast of [true, false]) {
      const log: CallLog = [];
      const flow = unorderedFlow('u', [
        recording('t1', log, { priority: 1 }),
        recording('t2', log, { priority: 2, fail: true }),
      ]);
      await settle(new Engine(flow, { failFast }));
      assert.deepEqual(log, failFast ? ['t2', 't2~'] : ['t2', 't1', 't2~', 't1~']);
    }
  });

  test("revertOrder: 'priority' reverts a step's atoms by priority, as TaskFlow", async () => {
    for (const revertOrder of ['newest-first', 'priority'] as const) {
      const log: CallLog = [];
      const flow = unorderedFlow('u', [
        recording('a', log, { priority: 2 }),
        recording('b', log, { priority: 1, fail: true }),
      ]);
      await settle(new Engine(flow, { revertOrder }));
      assert.deepEqual(
        log,
        revertOrder === 'priority' ? ['a', 'b', 'a~', 'b~'] : ['a', 'b', 'b~', 'a~'],
      );
    }
  });

  test('random nested flows with retries and distinct priorities never break the state machine', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom(1, 3),
        fc.boolean(),
        fc.constantFrom('enclosing', 'subflow') as fc.Arbitrary<'enclosing' | 'subflow'>,
        async (seed, concurrency, failFast, revertScope) => {
          const spec = generateCase(seed);
          const engine = new Engine(buildFlow(spec.flow, new Recorder()), {
            concurrency,
            failFast,
            revertScope,
            store: spec.store,
          });
          const error = await settle(engine);
          if (error instanceof TaskFlowError && error.code === 'INVALID_TRANSITION') throw error;
          assert.ok(
            ['SUCCESS', 'REVERTED', 'FAILURE'].includes(engine.state),
            `seed ${seed} ended ${engine.state}`,
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('reading values like TaskFlow storage', () => {
  const flow = () =>
    unorderedFlow('u', [
      task({ name: 'one', provides: 'x', execute: () => 1 }),
      task({ name: 'two', provides: ['x', 'y'], execute: () => [2, 3] }),
      task({
        name: 'three',
        provides: 'z',
        execute: () => {
          throw new Error('no z');
        },
      }),
    ]);

  test('fetch and fetchAll give results, failures, store values, and lists for several providers', async () => {
    const engine = new Engine(flow(), { store: { y: 'stored' }, haltOnFailure: true });
    await settle(engine);
    const all = engine.fetchAll();
    assert.deepEqual(all.x, [1, 2]);
    assert.deepEqual(all.y, [3, 'stored']);
    assert.ok(all.z instanceof Failure);
    assert.match((all.z as Failure).message, /no z/);
    assert.deepEqual(engine.fetch('x'), [1, 2]);
    assert.throws(() => engine.fetch('nothing'), /No readable value named "nothing"/);
  });

  test("a reverted atom's result is no longer readable, its failure is; a persisted run reads the same", async () => {
    const runs = createMemoryRunStore();
    const registry = new FlowRegistry().register({ name: 'u', version: '1', build: flow });
    const engine = new Engine(flow(), {
      persistence: { runs, flowId: 'run-1', factory: { name: 'u', version: '1' } },
    });
    await settle(engine);
    assert.equal(engine.state, 'REVERTED');
    const all = engine.fetchAll();
    assert.deepEqual(Object.keys(all), ['z']);
    const stored = await fetchRun({ runs, registry, flowId: 'run-1' });
    assert.deepEqual(Object.keys(stored.fetchAll()), ['z']);
    assert.equal((stored.fetch('z') as Failure).message, 'no z');
  });
});
