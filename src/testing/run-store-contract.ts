import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { JsonValue } from '../core/failure.ts';
import type { AtomKind, AtomState, FlowState } from '../core/states.ts';
import type { RunStorage } from '../persistence/guarded-run-store.ts';
import type { AtomDetail, FlowDetail, LogBook } from '../persistence/model.ts';
import type { Lease } from '../persistence/ports.ts';
import { isStorageError, type StorageErrorCode } from '../persistence/storage-error.ts';

/** Options of {@link runRunStoreContract}. */
export interface RunStoreContractOptions {
  /** Names the suite, e.g. `'sqlite'`. */
  readonly name: string;
  /** Opens a fresh, empty store whose lease clock is `now`; the suite closes it. */
  readonly open: (options: { readonly now: () => number }) => Promise<RunStorage>;
  /** A reason to skip the whole suite (e.g. the server is unreachable), or false to run it. */
  readonly skip?: string | false;
  /** fast-check runs per property; lower it for slow backends. Default 50. */
  readonly numRuns?: number;
}

const T0 = 1_700_000_000_000;
const BOOK: LogBook = { id: 'book-1', name: 'book', meta: {}, createdAt: T0, updatedAt: T0 };

/** A flow detail for tests; `over` replaces any field. */
export function flowDetail(id: string, over: Partial<FlowDetail> = {}): FlowDetail {
  return {
    id,
    logbookId: BOOK.id,
    name: `flow ${id}`,
    state: 'PENDING',
    store: {},
    meta: {},
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

/** An atom detail for tests; `over` replaces any field. */
export function atomDetail(name: string, over: Partial<AtomDetail> = {}): AtomDetail {
  return {
    name,
    kind: 'task',
    version: '1',
    state: 'PENDING',
    intention: 'EXECUTE',
    progress: 0,
    attempts: 0,
    meta: {},
    updatedAt: T0,
    ...over,
  };
}

/** States written on the way from no record to `state`, each one a legal step. */
const PATHS: Readonly<Record<AtomState, readonly AtomState[]>> = {
  PENDING: ['PENDING'],
  RUNNING: ['RUNNING'],
  SUCCESS: ['RUNNING', 'SUCCESS'],
  FAILURE: ['RUNNING', 'FAILURE'],
  REVERTING: ['RUNNING', 'FAILURE', 'REVERTING'],
  REVERTED: ['RUNNING', 'SUCCESS', 'REVERTING', 'REVERTED'],
  REVERT_FAILURE: ['RUNNING', 'SUCCESS', 'REVERTING', 'REVERT_FAILURE'],
  IGNORE: ['IGNORE'],
  RETRYING: ['RUNNING', 'SUCCESS', 'RETRYING'],
};

// JSON.parse keeps -0 but JSON.stringify writes 0, so -0 is refused by the store; keep it out.
const json: fc.Arbitrary<JsonValue> = fc
  .jsonValue({ maxDepth: 3 })
  .map(
    (value) =>
      JSON.parse(JSON.stringify(value), (_key, v: unknown) =>
        Object.is(v, -0) ? 0 : v,
      ) as JsonValue,
  );
// Null-prototype objects are accepted but come back with Object.prototype; generate plain ones.
const record = fc.dictionary(fc.string(), json, { maxKeys: 4, noNullPrototype: true });
const failure = fc.record(
  { type: fc.string(), message: fc.string(), retryable: fc.boolean() },
  { noNullPrototype: true },
);

const atomArbitrary: fc.Arbitrary<AtomDetail> = fc.record(
  {
    name: fc.string({ minLength: 1 }),
    kind: fc.constantFrom<AtomKind>('task', 'retry'),
    version: fc.string(),
    state: fc.constantFrom<AtomState>(
      'PENDING',
      'RUNNING',
      'SUCCESS',
      'FAILURE',
      'REVERTING',
      'REVERTED',
      'REVERT_FAILURE',
      'IGNORE',
    ),
    intention: fc.constantFrom('EXECUTE', 'REVERT', 'RETRY', 'IGNORE' as const),
    result: json,
    failure,
    revertResult: json,
    progress: fc.double({ min: 0, max: 1, noNaN: true }).map((p) => (Object.is(p, -0) ? 0 : p)),
    attempts: fc.nat(),
    history: fc.array(
      fc.record(
        {
          result: json,
          failures: fc.dictionary(fc.string(), failure, { maxKeys: 2, noNullPrototype: true }),
        },
        { noNullPrototype: true },
      ),
      { maxLength: 2 },
    ),
    meta: record,
    updatedAt: fc.integer({ min: 0, max: 2 ** 42 }),
  },
  {
    requiredKeys: [
      'name',
      'kind',
      'version',
      'state',
      'intention',
      'progress',
      'attempts',
      'meta',
      'updatedAt',
    ],
    noNullPrototype: true,
  },
);

/**
 * Registers the behaviour every {@link RunStorage} backend must show, as `node:test` tests.
 * The in-memory backend is the reference; run the same suite against each adapter.
 *
 * @example
 * runRunStoreContract({ name: 'memory', open: async ({ now }) => createMemoryRunStore({ now }) });
 */
export function runRunStoreContract(options: RunStoreContractOptions): void {
  const numRuns = options.numRuns ?? 50;
  const skip = options.skip ?? false;

  /** Runs `body` against a fresh store with a clock the test moves by hand. */
  async function withStore(
    body: (store: RunStorage, clock: { t: number }) => Promise<void>,
  ): Promise<void> {
    const clock = { t: T0 };
    const store = await options.open({ now: () => clock.t });
    try {
      await body(store, clock);
    } finally {
      await store.close();
    }
  }

  async function leased(store: RunStorage, id = 'run-1'): Promise<Lease> {
    await store.ensureFlow(BOOK, flowDetail(id));
    return store.acquireLease(id, 'engine-a', 10_000);
  }

  describe(`RunStore contract: ${options.name}`, { skip }, () => {
    it('creates a run once and returns the stored detail unchanged on a second ensureFlow', () =>
      withStore(async (store) => {
        const first = flowDetail('run-1', {
          store: { amount: 5 },
          factory: { name: 'f', version: '2' },
        });
        assert.deepEqual(await store.ensureFlow(BOOK, first), first);
        assert.deepEqual(
          await store.ensureFlow(BOOK, flowDetail('run-1', { name: 'other' })),
          first,
        );
        assert.deepEqual(await store.loadRun('run-1'), { flow: first, atoms: [] });
        assert.equal(await store.loadRun('missing'), undefined);
        assert.deepEqual((await store.listLogbooks({})).items, [BOOK]);
      }));

    it('round-trips any JSON-safe flow and atom details exactly', () =>
      withStore(async (store) => {
        let n = 0;
        await fc.assert(
          fc.asyncProperty(
            record,
            record,
            fc.uniqueArray(atomArbitrary, { selector: (a) => a.name, maxLength: 4 }),
            async (runStore, meta, atoms) => {
              n += 1;
              const flow = flowDetail(`prop-${n}`, { store: runStore, meta });
              await store.ensureFlow(BOOK, flow);
              const lease = await store.acquireLease(flow.id, 'engine-a', 10_000);
              for (const atom of atoms) {
                for (const state of PATHS[atom.state])
                  await store.saveAtoms(
                    flow.id,
                    [atomDetail(atom.name, { kind: atom.kind, state })],
                    lease,
                  );
                await store.saveAtoms(flow.id, [atom], lease);
              }
              assert.deepEqual(await store.loadRun(flow.id), { flow, atoms });
            },
          ),
          { numRuns },
        );
      }));

    it('loads atoms in the order they were first saved, and a save replaces the record', () =>
      withStore(async (store) => {
        const lease = await leased(store);
        for (const name of ['c', 'a', 'b'])
          await store.saveAtoms('run-1', [atomDetail(name)], lease);
        const done = atomDetail('c', { state: 'RUNNING', progress: 0.5, attempts: 1 });
        await store.saveAtoms('run-1', [done], lease);
        const run = await store.loadRun('run-1');
        assert.deepEqual(run?.atoms, [done, atomDetail('a'), atomDetail('b')]);
      }));

    it('pages flows in creation order and filters by logbook, state and unfinished', () =>
      withStore(async (store) => {
        const states: FlowState[] = [
          'SUCCESS',
          'RUNNING',
          'FAILURE',
          'REVERTED',
          'SUSPENDED',
          'PENDING',
          'SUCCESS',
        ];
        const other: LogBook = { ...BOOK, id: 'book-2', createdAt: T0 + 1 };
        for (const [i, state] of states.entries()) {
          const book = i % 2 === 0 ? BOOK : other;
          await store.ensureFlow(
            book,
            flowDetail(`run-${9 - i}`, { state, logbookId: book.id, createdAt: T0 + (i % 3) }),
          );
        }
        const all = [];
        for (
          let after: string | undefined, pages = 0;
          pages === 0 || after !== undefined;
          pages += 1
        ) {
          const page = await store.listFlows({
            limit: 3,
            ...(after === undefined ? {} : { after }),
          });
          assert.ok(page.items.length <= 3 && pages < 4);
          all.push(...page.items);
          after = page.next;
        }
        assert.deepEqual(
          all.map((flow) => flow.id),
          ['run-3', 'run-6', 'run-9', 'run-5', 'run-8', 'run-4', 'run-7'],
        );
        const ids = async (query: Parameters<RunStorage['listFlows']>[0]) =>
          (await store.listFlows(query)).items.map((f) => f.id).sort();
        assert.deepEqual(await ids({ logbookId: 'book-2' }), ['run-4', 'run-6', 'run-8']);
        assert.deepEqual(await ids({ states: ['SUCCESS', 'FAILURE'] }), [
          'run-3',
          'run-7',
          'run-9',
        ]);
        assert.deepEqual(await ids({ unfinished: true }), ['run-4', 'run-5', 'run-7', 'run-8']);
        assert.deepEqual(
          await ids({ unfinished: true, logbookId: BOOK.id, states: ['FAILURE', 'PENDING'] }),
          ['run-7'],
        );
        const books = await store.listLogbooks({ limit: 1 });
        assert.deepEqual(books.items, [BOOK]);
        assert.deepEqual((await store.listLogbooks({ limit: 1, after: books.next ?? '' })).items, [
          other,
        ]);
        await rejects(store.listFlows({ limit: 0 }), 'INVALID_ARGUMENT');
        await rejects(store.listFlows({ after: 'not a cursor' }), 'INVALID_ARGUMENT');
      }));

    it('grants a lease to exactly one of many concurrent acquirers', () =>
      withStore(async (store) => {
        await store.ensureFlow(BOOK, flowDetail('run-1'));
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => store.acquireLease('run-1', `engine-${i}`, 10_000)),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        assert.equal(won.length, 1);
        for (const r of results)
          if (r.status === 'rejected')
            assert.ok(isStorageError(r.reason, 'LEASE_HELD'), String(r.reason));
        await rejects(store.acquireLease('missing', 'engine-a', 1000), 'RUN_NOT_FOUND');
      }));

    it('lets another engine take an expired lease over and fences the old holder out', () =>
      withStore(async (store, clock) => {
        const old = await leased(store);
        await store.saveAtoms('run-1', [atomDetail('a')], old);
        clock.t += 5_000;
        await rejects(store.acquireLease('run-1', 'engine-b', 10_000), 'LEASE_HELD');
        await rejects(store.acquireLease('run-1', 'engine-a', 10_000), 'LEASE_HELD');
        clock.t += 5_000;
        const taken = await store.acquireLease('run-1', 'engine-b', 10_000);
        assert.ok(taken.token > old.token);
        assert.deepEqual(taken, {
          flowId: 'run-1',
          owner: 'engine-b',
          token: taken.token,
          expiresAt: clock.t + 10_000,
        });
        const before = await store.loadRun('run-1');
        await rejects(
          store.saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING' })], old),
          'FENCED',
        );
        await rejects(store.saveAtoms('run-1', [atomDetail('z')], old), 'FENCED');
        await rejects(store.saveFlow(flowDetail('run-1', { state: 'RUNNING' }), old), 'FENCED');
        await rejects(store.renewLease(old, 10_000), 'FENCED');
        await store.releaseLease(old);
        assert.deepEqual(await store.loadRun('run-1'), before);
        await rejects(store.acquireLease('run-1', 'engine-c', 10_000), 'LEASE_HELD');
        await store.saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING' })], taken);
      }));

    it('renews a lease, and a released lease lets another engine in at once and writes no more', () =>
      withStore(async (store, clock) => {
        const lease = await leased(store);
        clock.t += 9_000;
        const renewed = await store.renewLease(lease, 10_000);
        assert.deepEqual(renewed, { ...lease, expiresAt: clock.t + 10_000 });
        clock.t += 5_000;
        await rejects(store.acquireLease('run-1', 'engine-b', 10_000), 'LEASE_HELD');
        await store.saveFlow(flowDetail('run-1', { state: 'RUNNING' }), renewed);
        await store.releaseLease(renewed);
        await store.releaseLease(renewed);
        await rejects(store.saveAtoms('run-1', [atomDetail('a')], renewed), 'FENCED');
        const next = await store.acquireLease('run-1', 'engine-b', 10_000);
        assert.ok(next.token > renewed.token);
        assert.equal((await store.loadRun('run-1'))?.flow.state, 'RUNNING');
      }));

    it('refuses illegal atom transitions and changes nothing', () =>
      withStore(async (store) => {
        const lease = await leased(store);
        await rejects(
          store.saveAtoms('run-1', [atomDetail('a', { state: 'SUCCESS' })], lease),
          'ILLEGAL_TRANSITION',
        );
        await store.saveAtoms('run-1', [atomDetail('a')], lease);
        await rejects(
          store.saveAtoms('run-1', [atomDetail('a', { state: 'SUCCESS' })], lease),
          'ILLEGAL_TRANSITION',
        );
        for (const state of ['RUNNING', 'RUNNING', 'SUCCESS', 'SUCCESS'] as const) {
          await store.saveAtoms('run-1', [atomDetail('a', { state })], lease);
        }
        await rejects(
          store.saveAtoms('run-1', [atomDetail('a', { state: 'RETRYING' })], lease),
          'ILLEGAL_TRANSITION',
        );
        await rejects(
          store.saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING' })], lease),
          'ILLEGAL_TRANSITION',
        );
        assert.equal((await store.loadRun('run-1'))?.atoms[0]?.state, 'SUCCESS');
        await store.saveAtoms('run-1', [atomDetail('a', { state: 'PENDING' })], lease);
        for (const state of ['RUNNING', 'SUCCESS', 'RETRYING', 'RUNNING'] as const) {
          await store.saveAtoms('run-1', [atomDetail('r', { kind: 'retry', state })], lease);
        }
      }));

    it('refuses values JSON cannot hold exactly, naming the path, and stores nothing', () =>
      withStore(async (store) => {
        const lease = await leased(store);
        const result = { items: [1, 2, 3, { when: new Date(0) }] } as unknown as JsonValue;
        const error = await rejects(
          store.saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING', result })], lease),
          'NOT_SERIALIZABLE',
        );
        assert.match(error.message, /result\.items\[3\]\.when is a Date/);
        const bad = { f: () => 1 } as unknown as JsonValue;
        await rejects(
          store.ensureFlow(BOOK, flowDetail('run-2', { store: { bad } })),
          'NOT_SERIALIZABLE',
        );
        await rejects(
          store.saveFlow(flowDetail('run-1', { meta: { n: Number.NaN } }), lease),
          'NOT_SERIALIZABLE',
        );
        assert.deepEqual(await store.loadRun('run-1'), { flow: flowDetail('run-1'), atoms: [] });
        assert.equal(await store.loadRun('run-2'), undefined);
      }));

    it('refuses a lease used for another run, and any use after close', () =>
      withStore(async (store) => {
        const lease = await leased(store);
        await store.ensureFlow(BOOK, flowDetail('run-2'));
        await rejects(store.saveAtoms('run-2', [atomDetail('a')], lease), 'INVALID_ARGUMENT');
        await rejects(
          store.saveAtoms('missing', [atomDetail('a')], { ...lease, flowId: 'missing' }),
          'RUN_NOT_FOUND',
        );
        await store.close();
        await store.close();
        await rejects(store.loadRun('run-1'), 'STORE_CLOSED');
      }));
  });
}

async function rejects(promise: Promise<unknown>, code: StorageErrorCode): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isStorageError(error, code), `expected ${code}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected a ${code} error, but the call succeeded`);
}
