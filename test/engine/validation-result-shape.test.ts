import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Engine, linearFlow, task } from '../../src/index.ts';

// Needs Runner#complete to call checkResultShape (src/core/atom.ts) on every accepted result.
describe('a result that lacks what its provides name', () => {
  const run = async (provides: readonly string[] | Record<string, string>, result: unknown) => {
    const reverted: string[] = [];
    const before = task({
      name: 'before',
      provides: 'ok',
      execute: () => 1,
      revert: () => void reverted.push('before'),
    });
    const short = task({
      name: 'short',
      provides,
      execute: () => result,
      revert: () => void reverted.push('short'),
    });
    const reader = task({ name: 'reader', requires: ['b'], execute: () => 1 });
    const engine = new Engine(linearFlow('f', [before, short, reader]));
    const error = await engine.run().then(
      () => assert.fail('the run should fail'),
      (e: unknown) => e as Error & { code?: string },
    );
    const states = Object.fromEntries(engine.atoms().map((a) => [a.name, a.state]));
    return { error, states, reverted };
  };

  test('fails the atom, naming the missing position, and reverts like any failure', async () => {
    const { error, states, reverted } = await run(['a', 'b'], [1]);
    assert.equal(error.code, 'BAD_RESULT');
    assert.match(
      error.message,
      /Atom "short" provides "b" at position 1, but returned an array of 1/,
    );
    assert.deepEqual(states, { before: 'REVERTED', short: 'REVERTED', reader: 'PENDING' });
    assert.deepEqual(reverted, ['short', 'before']);
  });

  test('fails the atom, naming the missing key', async () => {
    const { error, states } = await run({ id: 'a', extra: 'b' }, { id: 1 });
    assert.equal(error.code, 'BAD_RESULT');
    assert.match(error.message, /Atom "short" returned an object without key "extra" \(for "b"\)/);
    assert.equal(states.short, 'REVERTED');
  });
});
