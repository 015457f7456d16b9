import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  Engine,
  type Flow,
  graphFlow,
  linearFlow,
  task,
  unorderedFlow,
  ValidationError,
} from '../../src/index.ts';
import { createMemoryRunStore } from '../../src/persistence/memory/memory-run-store.ts';
import { isStorageError } from '../../src/persistence/storage-error.ts';
import { atomDetail, flowDetail } from '../../src/testing/run-store-contract.ts';

const RUNS = Number(process.env.FC_NUM_RUNS ?? 100);

/** Names that are also members of Object.prototype, plus ordinary ones. */
const PROTOTYPE_NAMES = [
  'constructor',
  'toString',
  '__proto__',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
] as const;
const nameArb = fc.constantFrom(...PROTOTYPE_NAMES, 'plain', 'other');

/** An object with `key` as an own property, even for `__proto__` (a literal would set the prototype). */
const own = <V>(key: string, value: V): Record<string, V> => Object.fromEntries([[key, value]]);

function issuesOf(flow: Flow, store: Record<string, unknown> = {}): string[] {
  try {
    new Engine(flow, { store }).compile();
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    return error.issues.map((i) => `${i.code}:${i.atom}${i.symbol ? `:${i.symbol}` : ''}`);
  }
  return [];
}

describe('names that are Object.prototype members', () => {
  test('work in every position: requires, provides, rebind, inject, optional and store', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          arg: nameArb,
          symbol: nameArb,
          key: nameArb,
          fromStore: nameArb,
          injected: nameArb,
          defaulted: nameArb,
        }),
        async ({ arg, symbol, key, fromStore, injected, defaulted }) => {
          // The consumer's argument names must differ from each other; symbols may repeat.
          fc.pre(new Set([arg, fromStore, injected, defaulted]).size === 4);
          // Store and default values arrive only where no atom provides the symbol.
          fc.pre(symbol !== key && !new Set([symbol, key]).has(fromStore));
          fc.pre(!new Set([symbol, key]).has(defaulted));
          const seen: Record<string, unknown>[] = [];
          const flow = linearFlow('f', [
            // A string, an array and an object `provides`, each publishing prototype names.
            task({ name: 'one', provides: symbol, execute: () => 'from-one' }),
            task({ name: 'pair', provides: [`${symbol}-2`, key], execute: () => ['p0', 'p1'] }),
            task({
              name: 'keyed',
              provides: own(key, `${key}-keyed`),
              execute: () => own(key, 'from-keyed'),
            }),
            task<Record<string, unknown>, unknown>({
              name: 'consumer',
              requires: [arg, fromStore, injected],
              rebind: own(arg, symbol),
              inject: own(injected, 'injected-value'),
              optional: own(defaulted, 'default-value'),
              execute: (inputs) => {
                seen.push({ ...inputs });
                return null;
              },
            }),
            task<Record<string, unknown>, unknown>({
              name: 'by-key',
              requires: [key, `${key}-keyed`],
              execute: (inputs) => {
                seen.push({ ...inputs });
                return null;
              },
            }),
          ]);
          await new Engine(flow, { store: own(fromStore, 'stored') }).run();
          const [consumer, byKey] = seen;
          assert.ok(consumer && byKey);
          assert.ok(Object.hasOwn(consumer, arg) && Object.hasOwn(consumer, fromStore));
          assert.equal(consumer[arg], 'from-one');
          assert.equal(consumer[fromStore], 'stored');
          assert.equal(consumer[injected], 'injected-value');
          assert.equal(consumer[defaulted], 'default-value');
          assert.equal(byKey[key], 'p1');
          assert.equal(byKey[`${key}-keyed`], 'from-keyed');
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('a missing one is reported by its own name, not as a prototype member', () => {
    for (const name of PROTOTYPE_NAMES) {
      const flow = linearFlow('f', [task({ name: 'r', requires: [name], execute: () => 1 })]);
      assert.deepEqual(issuesOf(flow), [`MISSING_REQUIREMENT:r:${name}`]);
    }
  });
});

describe('two unordered siblings providing one symbol', () => {
  const p = (name: string) => task({ name, provides: 'x', execute: () => name });
  const reader = (options: { optional?: boolean } = {}) =>
    options.optional
      ? task({ name: 'reader', optional: { x: 0 }, execute: () => 1 })
      : task({ name: 'reader', requires: ['x'], execute: () => 1 });

  test('are ambiguous to a reader after their flow, however they are nested', () => {
    const shapes: Flow[] = [
      linearFlow('f', [unorderedFlow('u', [p('a'), p('b')]), reader()]),
      linearFlow('f', [unorderedFlow('u', [p('a'), p('b')]), reader({ optional: true })]),
      linearFlow('f', [unorderedFlow('u', [linearFlow('l', [p('a')]), p('b')]), reader()]),
      linearFlow('f', [linearFlow('o', [unorderedFlow('u', [p('a'), p('b')])]), reader()]),
      linearFlow('f', [unorderedFlow('u', [p('a'), p('b')]), linearFlow('l', [reader()])]),
      graphFlow('g', [unorderedFlow('u', [p('a'), p('b')]), reader()]),
    ];
    for (const flow of shapes) assert.deepEqual(issuesOf(flow), ['AMBIGUOUS_PROVIDER:reader:x']);
  });

  test('the error names both atoms and the fix; a rebind or a nearer provider resolves it', () => {
    const flow = linearFlow('f', [unorderedFlow('u', [p('a'), p('b')]), reader()]);
    assert.throws(
      () => new Engine(flow).compile(),
      /"reader" requires "x", which "a" and "b" all provide and none is nearer; rename one of the outputs or rebind "x"/,
    );
    const nearer = linearFlow('f', [unorderedFlow('u', [p('a'), p('b')]), p('c'), reader()]);
    assert.deepEqual(issuesOf(nearer), []);
  });
});

describe('atom and flow names', () => {
  const named = (name: string) => task({ name, execute: () => 1 });

  test('are refused before anything runs when they hold control characters or are too long', () => {
    const flow = linearFlow('f', [
      named('nul\u0000byte'),
      named('new\nline'),
      named('x'.repeat(257)),
      named('\ud800lone'),
      named('x'.repeat(256)),
      named('ünïcødé ✓ 名前'),
      linearFlow('bad\u0007flow', [named('inner')]),
    ]);
    assert.deepEqual(
      issuesOf(flow).sort(),
      [
        'INVALID_DEFINITION:\ud800lone',
        `INVALID_DEFINITION:${'x'.repeat(257)}`,
        'INVALID_DEFINITION:bad\u0007flow',
        'INVALID_DEFINITION:new\nline',
        'INVALID_DEFINITION:nul\u0000byte',
      ].sort(),
    );
    assert.throws(
      () => new Engine(linearFlow('f', [named('nul\u0000byte')])).compile(),
      /The name of atom "nul\\u0000byte" contains control character U\+0000 at position 3/,
    );
    assert.throws(
      () => new Engine(linearFlow('f', [named('y'.repeat(300))])).compile(),
      /is 300 characters long; the limit is 256/,
    );
  });
});

describe('run store names', () => {
  const book = { id: 'book-1', name: 'book', meta: {}, createdAt: 0, updatedAt: 0 };

  test('the guarded run store refuses the same bad names, whoever writes', async () => {
    const store = createMemoryRunStore();
    await assert.rejects(
      store.ensureFlow(book, { ...flowDetail('run-0'), name: 'f\u0000' }),
      (error: unknown) =>
        isStorageError(error, 'INVALID_ARGUMENT') &&
        /flow name "f\\u0000" of run "run-0" contains control character U\+0000/.test(
          error.message,
        ),
    );
    await store.ensureFlow(book, flowDetail('run-1'));
    const lease = await store.acquireLease('run-1', 'engine-a', 1000);
    for (const name of ['a\u0000', 'n'.repeat(257), '']) {
      await assert.rejects(
        store.saveAtoms('run-1', [atomDetail(name)], lease),
        (error: unknown) =>
          isStorageError(error, 'INVALID_ARGUMENT') && /atom name/.test(error.message),
      );
    }
    assert.deepEqual((await store.loadRun('run-1'))?.atoms, []);
    assert.equal(await store.loadRun('run-0'), undefined);
  });
});
