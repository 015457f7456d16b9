import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { findJsonProblem } from '../../src/core/json-safety.ts';
import { assertJsonSafe, isStorageError } from '../../src/persistence/storage-error.ts';

describe('JSON-safety check', () => {
  it('names the path and the fix for each value JSON cannot hold exactly', () => {
    const sparse = [1, 2, 3];
    delete sparse[1];
    const cycle: Record<string, unknown> = { a: { list: [] as unknown[] } };
    (cycle.a as { list: unknown[] }).list.push(cycle);
    const cases: [unknown, string, RegExp][] = [
      [
        { items: [1, 2, 3, { when: new Date(0) }] },
        'result.items[3].when',
        /is a Date; store date\.toISOString\(\)/,
      ],
      [{ a: undefined }, 'result.a', /is undefined/],
      [{ 'odd key': () => 1 }, 'result["odd key"]', /is a function/],
      [[Number.NaN], 'result[0]', /is NaN/],
      [{ n: Number.POSITIVE_INFINITY }, 'result.n', /is Infinity/],
      [{ n: -0 }, 'result.n', /is -0/],
      [{ big: 10n }, 'result.big', /is a BigInt.*store value\.toString\(\)/],
      [{ m: new Map() }, 'result.m', /is a Map/],
      [{ s: new Set([1]) }, 'result.s', /is a Set/],
      [{ u: new Uint8Array(2) }, 'result.u', /instance of Uint8Array/],
      [{ c: new (class Money {})() }, 'result.c', /instance of Money/],
      [{ sym: Symbol('x') }, 'result.sym', /is a symbol/],
      [{ [Symbol('k')]: 1 }, 'result', /symbol-keyed/],
      [sparse, 'result[1]', /hole in a sparse array/],
      [cycle, 'result.a.list[0]', /refers back to result \(a cycle\)/],
      [undefined, 'result', /is undefined/],
    ];
    for (const [value, path, reason] of cases) {
      const problem = findJsonProblem(value, 'result');
      assert.equal(problem?.path, path, `path for ${String(reason)}`);
      assert.match(problem?.reason ?? '', reason);
    }
  });

  it('accepts plain data, shared references and null-prototype objects', () => {
    const shared = { x: 1 };
    const bare = Object.create(null) as Record<string, unknown>;
    bare.k = 'v';
    assert.equal(
      findJsonProblem({ a: shared, b: [shared, null, true, 'é', 1.5e300], bare, '': {} }, 'v'),
      undefined,
    );
  });

  it('accepts a value exactly when it survives a JSON round trip unchanged', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withDate: true,
          withMap: true,
          withSet: true,
          withBigInt: true,
          withNullPrototype: false,
          withObjectString: true,
          withTypedArray: true,
          withSparseArray: true,
        }),
        (value) => {
          const problem = findJsonProblem(value, 'v');
          if (problem === undefined)
            assert.deepStrictEqual(JSON.parse(JSON.stringify(value)), value);
          else
            assert.throws(() =>
              assert.deepStrictEqual(JSON.parse(JSON.stringify(value) ?? 'null'), value),
            );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('throws NOT_SERIALIZABLE naming whose value it was', () => {
    assert.throws(
      () =>
        assertJsonSafe(
          { when: new Date(0) },
          { path: 'result', subject: 'atom "charge"', flowId: 'r1' },
        ),
      (error: unknown) =>
        isStorageError(error, 'NOT_SERIALIZABLE') &&
        error.flowId === 'r1' &&
        /^Cannot store atom "charge": result\.when is a Date/.test(error.message),
    );
  });
});
