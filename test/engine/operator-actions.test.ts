import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  auditList,
  createMemoryRunStore,
  Engine,
  isRetryable,
  linearFlow,
  operatorRequest,
  RunCancelledError,
  StateError,
  task,
} from '../../src/index.ts';
import { type CallLog, recording } from '../support/tasks.ts';

/** A task that waits for `gate` to open before it returns. */
function gated(name: string, log: CallLog, gate: Promise<void>) {
  return task({
    name,
    execute: async () => {
      log.push(name);
      await gate;
      return name;
    },
    revert: () => void log.push(`${name}~`),
  });
}

function opening(): { gate: Promise<void>; open: () => void } {
  let open = (): void => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { gate, open };
}

/** Resolves once `check` holds, polling every millisecond. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 1));
}

describe('operator actions on an engine', () => {
  test('cancel reverts what ran, newest first, lets no further atom start, and ends REVERTED with the cancel', async () => {
    const log: CallLog = [];
    const { gate, open } = opening();
    const engine = new Engine(
      linearFlow('f', [recording('a', log), gated('b', log, gate), recording('c', log)]),
    );
    const running = engine.run();
    await until(() => log.includes('b'));
    engine.apply(operatorRequest('cancel', { by: 'alice', reason: 'wrong region' }));
    open();
    await assert.rejects(running, (error: unknown) => {
      assert.ok(error instanceof RunCancelledError);
      assert.equal(error.code, 'CANCELLED');
      assert.match(error.message, /cancelled by "alice": wrong region/);
      return true;
    });
    assert.equal(engine.state, 'REVERTED');
    assert.deepEqual(log, ['a', 'b', 'b~', 'a~']);
    assert.equal(engine.atom('c').state, 'PENDING', 'c never ran');
  });

  test('cancel without revert stops where the run stands and ends FAILURE, undoing nothing', async () => {
    const log: CallLog = [];
    const { gate, open } = opening();
    const engine = new Engine(
      linearFlow('f', [recording('a', log), gated('b', log, gate), recording('c', log)]),
    );
    const running = engine.run();
    await until(() => log.includes('b'));
    engine.apply(operatorRequest('cancel', { by: 'alice', revert: false }));
    open();
    await assert.rejects(running, RunCancelledError);
    assert.equal(engine.state, 'FAILURE');
    assert.deepEqual(log, ['a', 'b']);
    assert.deepEqual(
      engine.atoms().map((atom) => [atom.name, atom.state]),
      [
        ['a', 'SUCCESS'],
        ['b', 'SUCCESS'],
        ['c', 'PENDING'],
      ],
    );
  });

  test('redrive runs a REVERTED run again from its failed atom, in a new engine, and the audit list says who asked', async () => {
    const runs = createMemoryRunStore();
    const log: CallLog = [];
    let failures = 1;
    const build = () =>
      linearFlow('f', [
        recording('a', log, { provides: 'x', result: 1 }),
        task({
          name: 'b',
          requires: ['x'],
          execute: () => {
            log.push('b');
            if (failures-- > 0) throw new Error('quota exceeded');
            return 'done';
          },
        }),
      ]);
    const persistence = { runs, flowId: 'run-r' };
    await assert.rejects(new Engine(build(), { persistence }).run(), /quota exceeded/);
    assert.equal((await runs.loadRun('run-r'))?.flow.state, 'REVERTED');
    await assert.rejects(
      new Engine(build(), { persistence }).run(),
      /quota exceeded/,
      'a REVERTED run stays final without an operator',
    );

    const again = new Engine(build(), { persistence });
    again.apply(operatorRequest('redrive', { by: 'bob', at: 5 }));
    const { state } = await again.run();
    assert.equal(state, 'SUCCESS');
    assert.deepEqual(log, ['a', 'b', 'a~', 'a', 'b']);
    const stored = await runs.loadRun('run-r');
    assert.equal(stored?.flow.state, 'SUCCESS');
    const audit = auditList(stored?.flow ?? { meta: {} });
    assert.deepEqual(
      audit.map((entry) => [entry.action, entry.by, entry.at, entry.refused]),
      [['redrive', 'bob', 5, undefined]],
    );
  });

  test('a failed revert is finished by hand: retry-revert, skip-revert or resolve, and the rest of the revert goes on', async () => {
    for (const action of ['retry-revert', 'skip-revert', 'resolve'] as const) {
      const runs = createMemoryRunStore();
      const log: CallLog = [];
      let revertFailures = 1;
      const build = () =>
        linearFlow('f', [
          recording('a', log),
          task({
            name: 'b',
            execute: () => void log.push('b'),
            revert: () => {
              log.push('b~');
              if (revertFailures-- > 0) throw new Error('storage API down');
            },
          }),
          recording('c', log, { fail: 'disk full' }),
        ]);
      const persistence = { runs, flowId: `run-${action}` };
      await assert.rejects(new Engine(build(), { persistence }).run(), /storage API down/);
      const failed = await runs.loadRun(`run-${action}`);
      assert.equal(failed?.flow.state, 'FAILURE');
      assert.equal(failed?.atoms.find((atom) => atom.name === 'b')?.state, 'REVERT_FAILURE');

      const engine = new Engine(build(), { persistence });
      engine.apply(
        operatorRequest(action, {
          by: 'carol',
          atom: 'b',
          ...(action === 'resolve' ? { result: { restoredBy: 'carol' } } : {}),
        }),
      );
      await assert.rejects(engine.run(), /disk full/, `${action}: the run ends REVERTED`);
      assert.equal(engine.state, 'REVERTED', action);
      const b = engine.atom('b');
      assert.equal(b.state, 'REVERTED', action);
      const expected = {
        'retry-revert': ['a', 'b', 'c', 'c~', 'b~', 'b~', 'a~'],
        'skip-revert': ['a', 'b', 'c', 'c~', 'b~', 'a~'],
        resolve: ['a', 'b', 'c', 'c~', 'b~', 'a~'],
      }[action];
      assert.deepEqual(log, expected, action);
      if (action === 'resolve') assert.deepEqual(b.revertResult, { restoredBy: 'carol' });
      const stored = await runs.loadRun(`run-${action}`);
      assert.deepEqual(
        auditList(stored?.flow ?? { meta: {} }).map((entry) => [entry.action, entry.atom]),
        [[action, 'b']],
      );
    }
  });

  test('a request the run no longer allows is recorded as refused and changes nothing', async () => {
    const runs = createMemoryRunStore();
    const log: CallLog = [];
    const build = () => linearFlow('f', [recording('a', log)]);
    const persistence = { runs, flowId: 'run-done' };
    await new Engine(build(), { persistence }).run();
    const engine = new Engine(build(), { persistence, onError: () => {} });
    engine.apply(operatorRequest('redrive', { by: 'dave' }));
    assert.equal((await engine.run()).state, 'SUCCESS');
    assert.deepEqual(log, ['a'], 'nothing ran again');
    const [entry] = auditList((await runs.loadRun('run-done'))?.flow ?? { meta: {} });
    assert.match(
      entry?.refused ?? '',
      /is SUCCESS; "redrive" applies to a run that is REVERTED or FAILURE/,
    );
  });

  test('refuses malformed requests and a stopped-run action on a running engine, naming the fix', async () => {
    const engine = new Engine(linearFlow('f', [recording('a', [])]));
    assert.throws(
      () => engine.apply(operatorRequest('skip-revert', { by: 'eve' })),
      /"skip-revert" names the atom to act on in "atom"/,
    );
    assert.throws(
      () =>
        engine.apply({ ...operatorRequest('suspend', { by: 'eve' }), action: 'pause' as never }),
      /action "pause" is unknown; use one of suspend, resume, cancel/,
    );
    assert.throws(
      () => engine.apply(operatorRequest('cancel', { by: '' })),
      /"by" must name who asks/,
    );
    const { gate, open } = opening();
    const log: CallLog = [];
    const slow = new Engine(linearFlow('g', [gated('a', log, gate)]));
    const running = slow.run();
    await until(() => log.includes('a'));
    assert.throws(
      () => slow.apply(operatorRequest('redrive', { by: 'eve' })),
      (error: unknown) =>
        error instanceof StateError &&
        !isRetryable(error) &&
        /applies to a stopped run/.test(error.message),
    );
    open();
    assert.equal((await running).state, 'SUCCESS');
  });

  test('a cancel applied twice (again after a crash) is listed once', async () => {
    const runs = createMemoryRunStore();
    const log: CallLog = [];
    const { gate, open } = opening();
    const engine = new Engine(linearFlow('f', [gated('a', log, gate), recording('b', log)]), {
      persistence: { runs, flowId: 'run-twice' },
    });
    const running = engine.run();
    await until(() => log.includes('a'));
    const cancel = operatorRequest('cancel', { by: 'frank' });
    engine.apply(cancel);
    engine.apply(cancel);
    open();
    await assert.rejects(running, RunCancelledError);
    const audit = auditList((await runs.loadRun('run-twice'))?.flow ?? { meta: {} });
    assert.deepEqual(
      audit.map((entry) => entry.id),
      [cancel.id],
    );
  });
});
