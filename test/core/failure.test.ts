import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { failureToThrow } from '../../src/core/failure.ts';
import {
  Failure,
  FailureError,
  type FailureJson,
  type JsonValue,
  TaskFlowError,
  WrappedFailure,
} from '../../src/index.ts';

/** An error carrying the optional extras a Failure reads. */
function errorWith(
  message: string,
  extras: { details?: unknown; retryable?: unknown; cause?: unknown },
): Error {
  const { cause, ...rest } = extras;
  return Object.assign(new Error(message, cause === undefined ? {} : { cause }), rest);
}

const failureJsonArb: fc.Arbitrary<FailureJson> = fc.letrec<{ failure: FailureJson }>((tie) => ({
  failure: fc.record(
    {
      type: fc.string({ minLength: 1 }),
      message: fc.string(),
      stack: fc.string(),
      cause: fc.oneof({ depthSize: 'small', maxDepth: 4 }, fc.constant(undefined), tie('failure')),
      details: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>,
      retryable: fc.boolean(),
    },
    { requiredKeys: ['type', 'message', 'retryable'] },
  ) as fc.Arbitrary<FailureJson>,
})).failure;

/** Drops keys whose value is undefined, which JSON cannot carry. */
function withoutUndefined(json: FailureJson): FailureJson {
  return JSON.parse(JSON.stringify(json)) as FailureJson;
}

describe('Failure', () => {
  test('a failure from an Error keeps its type, message and stack and is not retryable by default', () => {
    const error = new RangeError('size must be positive');
    const failure = Failure.from(error);
    assert.equal(failure.type, 'RangeError');
    assert.equal(failure.message, 'size must be positive');
    assert.equal(failure.stack, error.stack);
    assert.equal(failure.cause, undefined);
    assert.equal(failure.details, undefined);
    assert.equal(failure.retryable, false);
    assert.equal(String(failure), 'RangeError: size must be positive');
  });

  test('a failure from a value that is not an Error names its type and describes the value', () => {
    const cases: [unknown, string, string][] = [
      ['oops', 'string', 'oops'],
      [42, 'number', '42'],
      [{ code: 7 }, 'Object', '{"code":7}'],
      [null, 'object', 'null'],
      [undefined, 'undefined', 'undefined'],
      [10n, 'bigint', '10'],
    ];
    for (const [thrown, type, message] of cases) {
      const failure = Failure.from(thrown);
      assert.deepEqual(failure.toJSON(), { type, message, retryable: false }, String(thrown));
      assert.ok(failure.toError() instanceof FailureError);
    }
  });

  test('a thrown object that JSON cannot describe still becomes a failure', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.deepEqual(Failure.from(circular).toJSON(), {
      type: 'Object',
      message: '[object Object]',
      retryable: false,
    });
  });

  test('a cause chain is kept, Error and non-Error causes alike', () => {
    const error = new Error('charge failed', {
      cause: new TypeError('bad card', { cause: 'gateway said no' }),
    });
    const failure = Failure.from(error);
    assert.equal(failure.cause?.type, 'TypeError');
    assert.equal(failure.cause?.message, 'bad card');
    assert.equal(failure.cause?.cause?.type, 'string');
    assert.equal(failure.cause?.cause?.message, 'gateway said no');
    assert.equal(failure.cause?.cause?.cause, undefined);
    assert.ok(failure.is('TypeError'));
    assert.ok(failure.is('string'));
    assert.ok(!failure.is('RangeError'));
  });

  test('a cause chain that loops back on itself is cut off instead of recursing forever', () => {
    const error = new Error('loop');
    (error as { cause?: unknown }).cause = error;
    let depth = 0;
    for (let f: Failure | undefined = Failure.from(error); f; f = f.cause) depth++;
    assert.equal(depth, 17);
  });

  test('details and retryable are read from the error, and details are made JSON-safe', () => {
    const failure = Failure.from(
      errorWith('quota', { details: { limit: 10, at: new Date(0) }, retryable: true }),
    );
    assert.deepEqual(failure.details, { limit: 10, at: '1970-01-01T00:00:00.000Z' });
    assert.equal(failure.retryable, true);
    assert.equal(Failure.from(errorWith('odd', { details: 5n })).details, '5');
    assert.equal(Failure.from(errorWith('truthy', { retryable: 'yes' })).retryable, false);
  });

  test('a failure survives a JSON round trip, causes and details included', () => {
    const error = errorWith('outer', {
      details: { id: 'a"b' },
      retryable: true,
      cause: new SyntaxError('inner'),
    });
    const failure = Failure.from(error);
    const copy = Failure.fromJson(JSON.parse(JSON.stringify(failure)));
    assert.deepEqual(copy.toJSON(), failure.toJSON());
    assert.equal(copy.cause?.type, 'SyntaxError');
    assert.deepEqual(copy.details, { id: 'a"b' });
  });

  test('any failure value round-trips through JSON unchanged', () => {
    fc.assert(
      fc.property(failureJsonArb, (json) => {
        const expected = withoutUndefined(json);
        const failure = Failure.fromJson(JSON.parse(JSON.stringify(json)));
        assert.deepEqual(JSON.parse(JSON.stringify(failure)), expected);
        assert.deepEqual(Failure.fromJson(failure.toJSON()).toJSON(), failure.toJSON());
      }),
      { numRuns: 300 },
    );
  });

  test('any thrown error chain with details and retryable round-trips through JSON unchanged', () => {
    const chainArb = fc.array(
      fc.record({
        message: fc.string(),
        details: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
        retryable: fc.boolean(),
      }),
      { minLength: 1, maxLength: 5 },
    );
    fc.assert(
      fc.property(chainArb, (links) => {
        let error: unknown;
        for (const link of [...links].reverse()) {
          error = errorWith(link.message, {
            details: link.details,
            retryable: link.retryable,
            cause: error,
          });
        }
        const failure = Failure.from(error);
        const copy = Failure.fromJson(JSON.parse(JSON.stringify(failure)));
        assert.deepEqual(copy.toJSON(), failure.toJSON());
        let f: Failure | undefined = copy;
        for (const link of links) {
          assert.equal(f?.message, link.message);
          assert.equal(f?.retryable, link.retryable);
          f = f?.cause;
        }
        assert.equal(f, undefined);
      }),
      { numRuns: 200 },
    );
  });

  test('fromJson rejects malformed input with a message naming the bad field', () => {
    const cases: [unknown, RegExp][] = [
      ['just text', /^failure must be an object/],
      [null, /^failure must be an object/],
      [{ message: 'm' }, /^failure\.type must be a string, got undefined/],
      [{ type: 7, message: 'm' }, /^failure\.type must be a string, got 7/],
      [{ type: 'T' }, /^failure\.message must be a string/],
      [{ type: 'T', message: 'm', stack: 1 }, /^failure\.stack must be a string/],
      [
        { type: 'T', message: 'm', retryable: 'yes' },
        /^failure\.retryable must be a boolean, got yes/,
      ],
      [{ type: 'T', message: 'm', cause: 3 }, /^failure\.cause must be an object/],
      [
        { type: 'T', message: 'm', cause: { type: 'C', message: 'n', cause: { type: 'D' } } },
        /^failure\.cause\.cause\.message must be a string/,
      ],
    ];
    for (const [input, pattern] of cases) {
      assert.throws(
        () => Failure.fromJson(input),
        (error: unknown) => {
          assert.ok(error instanceof TaskFlowError);
          assert.equal(error.code, 'INVALID_FAILURE');
          assert.match(error.message, pattern);
          return true;
        },
        JSON.stringify(input),
      );
    }
  });

  test('toError returns the original error in the process where it was thrown', () => {
    const error = new RangeError('original');
    const failure = Failure.from(error);
    assert.equal(failure.toError(), error);
    assert.equal(Failure.from(failure), failure);
  });

  test('toError of a failure rebuilt from JSON is a FailureError with the same type, message, stack and causes', () => {
    const original = Failure.from(new Error('outer', { cause: new TypeError('inner') }));
    const rebuilt = Failure.fromJson(JSON.parse(JSON.stringify(original)));
    const error = rebuilt.toError();
    assert.ok(error instanceof FailureError);
    assert.ok(error instanceof TaskFlowError);
    assert.equal(error.code, 'ATOM_FAILED');
    assert.equal(error.name, 'Error');
    assert.equal(error.message, 'outer');
    assert.equal(error.stack, original.stack);
    assert.equal(error.failure, rebuilt);
    assert.ok(error.cause instanceof FailureError);
    assert.equal((error.cause as FailureError).name, 'TypeError');
    assert.equal((error.cause as FailureError).message, 'inner');
  });

  test('capturing a FailureError again gives back its failure, details and retryable included', () => {
    const failure = Failure.fromJson({
      type: 'QuotaError',
      message: 'over',
      details: { limit: 3 },
      retryable: true,
    });
    const again = Failure.from(failure.toError());
    assert.deepEqual(again.toJSON(), failure.toJSON());
  });

  test('an Error subclass that does not set its name is recorded under its class name', () => {
    class QuotaError extends Error {}
    assert.equal(Failure.from(new QuotaError('over')).type, 'QuotaError');
    assert.equal(Failure.from(new Error('plain')).type, 'Error');
  });

  test('a WrappedFailure keeps each failure, in order, and names them in its message', () => {
    const first = Failure.from(new Error('disk full'));
    const second = Failure.from(new TypeError('bad input'));
    const wrapped = new WrappedFailure([first, second]);
    assert.ok(wrapped instanceof TaskFlowError);
    assert.equal(wrapped.code, 'WRAPPED_FAILURE');
    assert.deepEqual(wrapped.failures, [first, second]);
    assert.equal(wrapped.failures[0], first);
    assert.equal(wrapped.message, '2 atoms failed: Error: disk full; TypeError: bad input');
  });

  test('one failure is reported as its original error, several as a WrappedFailure keeping each', () => {
    const original = new Error('only');
    assert.equal(failureToThrow([Failure.from(original)]), original);
    const failures = [
      Failure.from(new Error('a')),
      Failure.fromJson({ type: 'B', message: 'b', retryable: false }),
    ];
    const thrown = failureToThrow(failures);
    assert.ok(thrown instanceof WrappedFailure);
    assert.deepEqual(thrown.failures, failures);
  });
});
