import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Engine,
  graphFlow,
  linearFlow,
  Times,
  task,
  unorderedFlow,
  ValidationError,
} from '../../src/index.ts';

const t = (name: string, options: { requires?: string[]; provides?: string } = {}) =>
  task({ name, ...options, execute: () => name });

describe('validation', () => {
  test('every problem is reported at once, each naming the atom, the symbol and the fix', () => {
    const shared = t('shared');
    const flow = linearFlow('f', [
      t('needs', { requires: ['amount'] }),
      t('dup'),
      linearFlow('inner', [t('dup'), shared, shared]),
      unorderedFlow('u', [t('p1', { provides: 'x' }), t('p2', { provides: 'x' })]),
      t('reader', { requires: ['x'] }),
      new Times({ name: 'misplaced', attempts: 2 }),
    ]);
    let caught: unknown;
    try {
      new Engine(flow).compile();
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ValidationError);
    const codes = caught.issues
      .map((issue) => `${issue.code}:${issue.atom}${issue.symbol ? `:${issue.symbol}` : ''}`)
      .sort();
    assert.deepEqual(codes, [
      'AMBIGUOUS_PROVIDER:reader:x',
      'DUPLICATE_ATOM:shared',
      'DUPLICATE_NAME:dup',
      'MISSING_REQUIREMENT:needs:amount',
      'RETRY_AS_CHILD:misplaced',
    ]);
    const missing = caught.issues.find((issue) => issue.code === 'MISSING_REQUIREMENT');
    assert.match(
      missing?.message ?? '',
      /Atom "needs" requires "amount".*put "amount" in the store/,
    );
    assert.match(caught.message, /5 problems/);
  });

  test('a link that would close a cycle is refused and leaves the graph unchanged', () => {
    const g = graphFlow('g', [t('a', { provides: 'x' }), t('b', { requires: ['x'] })]);
    assert.throws(
      () => g.link('b', 'a'),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.issues[0]?.code, 'CYCLE');
        assert.match(error.message, /cycle/);
        return true;
      },
    );
    assert.equal(g.links.length, 0);
    assert.equal(g.edges.length, 1);
  });

  test('two providers of one symbol feeding one graph consumer are ambiguous, not a guess', () => {
    const g = graphFlow('g', [
      t('a', { provides: 'x' }),
      t('b', { provides: 'x' }),
      t('c', { requires: ['x'] }),
    ]);
    assert.throws(() => new Engine(g).compile(), /which "a" and "b" all provide/);
  });

  test('a later provider in a graph chain shadows an earlier one', async () => {
    const seen: unknown[] = [];
    const g = graphFlow('g', [
      t('a', { provides: 'x' }),
      t('b', { provides: 'x' }),
      task({ name: 'c', requires: ['x'], execute: ({ x }: { x: string }) => void seen.push(x) }),
    ]).link('a', 'b');
    await new Engine(g).run();
    assert.deepEqual(seen, ['b'], 'c reads the value of b, the provider that ran last');
  });

  test('an invalid flow writes nothing and runs nothing', async () => {
    let ran = false;
    const flow = linearFlow('f', [
      task({ name: 'a', execute: () => (ran = true) }),
      t('b', { requires: ['missing'] }),
    ]);
    await assert.rejects(new Engine(flow).run(), ValidationError);
    assert.equal(ran, false);
  });

  test('bad definitions fail when built, naming the fix', () => {
    assert.throws(() => task({ name: '', execute: () => 1 }), /non-empty "name"/);
    assert.throws(
      () =>
        task({ name: 'x', requires: ['a'], optional: { a: 1 }, execute: (_: { a: number }) => 1 }),
      /both in "requires" and "optional"/,
    );
    assert.throws(() => new Times({ name: 'r', attempts: 0 }), /attempts 0/);
    assert.throws(() => new Engine(linearFlow('f'), { concurrency: 0 }), /concurrency/);
  });
});
