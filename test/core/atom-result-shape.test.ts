import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkResultShape } from '../../src/core/atom.ts';
import { TaskFlowError } from '../../src/core/errors.ts';
import { task } from '../../src/index.ts';

const atom = (provides: string | readonly string[] | Record<string, string> | undefined) =>
  task({ name: 'size', ...(provides === undefined ? {} : { provides }), execute: () => null });

function problem(provides: Parameters<typeof atom>[0], result: unknown): string | undefined {
  const error = checkResultShape(atom(provides), result);
  if (error === undefined) return undefined;
  assert.ok(error instanceof TaskFlowError);
  assert.equal(error.code, 'BAD_RESULT');
  return error.message;
}

describe('checkResultShape', () => {
  test('accepts any result for a single name or no provides', () => {
    for (const result of [undefined, null, 1, [], {}, 'x']) {
      assert.equal(problem('whole', result), undefined);
      assert.equal(problem(undefined, result), undefined);
    }
  });

  test('accepts an array with a value at every named position, extra positions too', () => {
    assert.equal(problem(['w', 'h'], [1, 2]), undefined);
    assert.equal(problem(['w', 'h'], [1, 2, 3]), undefined);
    assert.equal(problem(['w', 'h'], [1, null]), undefined);
  });

  test('names the missing positions of a short array', () => {
    assert.equal(
      problem(['w', 'h', 'd'], [1]),
      'Atom "size" provides "h" at position 1, "d" at position 2, but returned an array of 1; return 3 values or remove the missing names from "provides".',
    );
  });

  test('refuses a non-array for positions', () => {
    assert.match(
      problem(['w', 'h'], { w: 1 }) ?? '',
      /provides positions \[w, h\] but returned an object/,
    );
    assert.match(problem(['w'], 'x') ?? '', /returned string x/);
  });

  test('names the missing keys of an object, by own property only', () => {
    assert.equal(problem({ id: 'volumeId', size: 'size' }, { id: 'v1', size: 2 }), undefined);
    assert.equal(
      problem({ id: 'volumeId' }, { name: 'v1' }),
      'Atom "size" returned an object without key "id" (for "volumeId"); return every key named in "provides" or remove the missing ones.',
    );
    // Inherited members are not keys of the result.
    assert.match(
      problem({ constructor: 'c', toString: 's' }, {}) ?? '',
      /key "constructor" \(for "c"\), key "toString" \(for "s"\)/,
    );
    assert.equal(
      problem({ constructor: 'c' }, Object.fromEntries([['constructor', 1]])),
      undefined,
    );
  });

  test('refuses a non-object for keys', () => {
    for (const result of [null, 3, 'id', undefined]) {
      assert.match(
        problem({ id: 'x' }, result) ?? '',
        /provides keys "id" of an object but returned/,
      );
    }
  });

  test('valueOf reads object results by own property only', () => {
    const keyed = atom({ constructor: 'c' });
    assert.equal(keyed.valueOf('c', {}), undefined);
    assert.equal(keyed.valueOf('c', Object.fromEntries([['constructor', 5]])), 5);
  });
});
