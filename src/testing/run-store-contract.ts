import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { JsonValue } from '../core/failure.ts';
import type { AtomKind, AtomState, FlowState } from '../core/states.ts';
import type { AtomDetail, FlowDetail, LogBook } from '../persistence/model.ts';
import type { RunStore } from '../persistence/ports.ts';
import { FENCED_LEASE_EXPIRY, type Lease } from '../persistence/ports.ts';
import { isStorageError, type StorageErrorCode } from '../persistence/storage-error.ts';

/** Options of {@link runRunStoreContract}. */
export interface RunStoreContractOptions {
  /** Names the suite, e.g. `'sqlite'`. */
  readonly name: string;
  /** Opens a fresh, empty store whose lease clock is `now`; the suite closes it. */
  readonly open: (options: { readonly now: () => number }) => Promise<RunStore>;
  /**
   * The backend times leases with its server's clock and ignores `now` (PostgreSQL). The
   * suite then lets leases expire for real: they get a TTL of {@link SERVER_CLOCK_TTL_MS} and
   * the tests wait it out, instead of moving a fake clock. Expiry times are checked against
   * this host's clock, assuming the server's is within a second of it. Default false.
   */
  readonly serverClock?: boolean;
  /** A reason to skip the whole suite (e.g. the server is unreachable), or false to run it. */
  readonly skip?: string | false;
  /** fast-check runs per property; lower it for slow backends. Default 50. */
  readonly numRuns?: number;
}

const T0 = 1_700_000_000_000;
/** The TTL of leases the suite lets expire on a backend with a server clock. */
export const SERVER_CLOCK_TTL_MS = 300;
/** How far a server's clock may be from this host's for the suite's expiry checks. */
const CLOCK_SKEW_MS = 1_000;
const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
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
 * Registers the behaviour every {@link RunStore} backend must show, as `node:test` tests.
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
    body: (store: RunStore, clock: { t: number }) => Promise<void>,
  ): Promise<void> {
    const clock = { t: T0 };
    const store = await options.open({ now: () => clock.t });
    try {
      await body(store, clock);
    } finally {
      await store.close();
    }
  }

  async function leased(store: RunStore, id = 'run-1'): Promise<Lease> {
    await store.ensureFlow(BOOK, flowDetail(id));
    return store.acquireLease(id, 'engine-a', 10_000);
  }

  // Time, for the tests of expiry: a fake clock is moved by hand; a server's clock cannot be,
  // so there leases are short and the tests sleep past them.
  const serverClock = options.serverClock === true;
  /** The TTL of a lease a test will let expire. */
  const shortTtl = serverClock ? SERVER_CLOCK_TTL_MS : 10_000;

  /** Moves the fake clock by `ms`, inside a lease of `shortTtl`; on a server clock, nothing. */
  function pass(clock: { t: number }, ms: number): void {
    if (!serverClock) clock.t += ms;
  }

  /**
   * Moves the fake clock by `ms`; on a server clock sleeps until a lease of `shortTtl` taken
   * at `takenAt` (this host's clock) has surely expired.
   */
  async function passExpiry(clock: { t: number }, ms: number, takenAt: number): Promise<void> {
    if (serverClock) await sleep(takenAt + shortTtl + 100 - Date.now());
    else clock.t += ms;
  }

  /**
   * Checks that `lease` expires `ttl` after it was requested: exactly on the fake clock,
   * within the clock skew on a server's.
   */
  function assertExpiry(lease: Lease, ttl: number, clock: { t: number }, sentAt: number): void {
    if (!serverClock) {
      assert.equal(lease.expiresAt, clock.t + ttl);
      return;
    }
    const low = sentAt + ttl - CLOCK_SKEW_MS;
    const high = Date.now() + ttl + CLOCK_SKEW_MS;
    assert.ok(
      lease.expiresAt >= low && lease.expiresAt <= high,
      `lease expires at ${lease.expiresAt}, expected ${ttl} ms after it was requested (${low}..${high})`,
    );
  }

  describe(`RunJournal contract: ${options.name}`, { skip }, () => {
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
        const ids = async (query: Parameters<RunStore['listFlows']>[0]) =>
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
        await store.ensureFlow(BOOK, flowDetail('run-1'));
        const takenAt = Date.now();
        const old = await store.acquireLease('run-1', 'engine-a', shortTtl);
        await store.saveAtoms('run-1', [atomDetail('a')], old);
        pass(clock, shortTtl / 2);
        await rejects(store.acquireLease('run-1', 'engine-b', 10_000), 'LEASE_HELD');
        await rejects(store.acquireLease('run-1', 'engine-a', 10_000), 'LEASE_HELD');
        await passExpiry(clock, shortTtl / 2, takenAt);
        const sentAt = Date.now();
        const taken = await store.acquireLease('run-1', 'engine-b', 10_000);
        assert.ok(taken.token > old.token);
        assert.deepEqual(taken, {
          flowId: 'run-1',
          owner: 'engine-b',
          token: taken.token,
          expiresAt: taken.expiresAt,
        });
        assertExpiry(taken, 10_000, clock, sentAt);
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
        await store.ensureFlow(BOOK, flowDetail('run-1'));
        const takenAt = Date.now();
        const lease = await store.acquireLease('run-1', 'engine-a', shortTtl);
        pass(clock, (shortTtl * 9) / 10);
        const sentAt = Date.now();
        const renewed = await store.renewLease(lease, 10_000);
        assert.deepEqual(renewed, { ...lease, expiresAt: renewed.expiresAt });
        assertExpiry(renewed, 10_000, clock, sentAt);
        // Past the first expiry, inside the renewed one.
        await passExpiry(clock, shortTtl / 2, takenAt);
        await rejects(store.acquireLease('run-1', 'engine-b', 10_000), 'LEASE_HELD');
        await store.saveFlow(flowDetail('run-1', { state: 'RUNNING' }), renewed);
        await store.releaseLease(renewed);
        await store.releaseLease(renewed);
        await rejects(store.saveAtoms('run-1', [atomDetail('a')], renewed), 'FENCED');
        const next = await store.acquireLease('run-1', 'engine-b', 10_000);
        assert.ok(next.token > renewed.token);
        assert.equal((await store.loadRun('run-1'))?.flow.state, 'RUNNING');
      }));

    it('grants a fenced lease over an unexpired plain lease of another owner, and fences that one out', () =>
      withStore(async (store) => {
        const plain = await leased(store);
        await store.saveAtoms('run-1', [atomDetail('a')], plain);
        const claimed = await store.acquireLease('run-1', 'conductor-b', 10_000, { fence: 5 });
        assert.deepEqual(claimed, {
          flowId: 'run-1',
          owner: 'conductor-b',
          token: 5,
          expiresAt: FENCED_LEASE_EXPIRY,
        });
        const before = await store.loadRun('run-1');
        await rejects(
          store.saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING' })], plain),
          'FENCED',
        );
        await rejects(store.saveFlow(flowDetail('run-1', { state: 'RUNNING' }), plain), 'FENCED');
        await rejects(store.renewLease(plain, 10_000), 'FENCED');
        await store.releaseLease(plain);
        assert.deepEqual(await store.loadRun('run-1'), before);
        const held = await rejects(store.acquireLease('run-1', 'engine-a', 10_000), 'LEASE_HELD');
        assert.match(held.message, /carried by a job/);
        await store.saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING' })], claimed);
        await store.saveFlow(flowDetail('run-1', { state: 'RUNNING' }), claimed);
        await rejects(
          store.acquireLease('missing', 'conductor-b', 1000, { fence: 5 }),
          'RUN_NOT_FOUND',
        );
      }));

    it('refuses a stale fence (smaller, or equal of another owner) with FENCED and changes nothing', () =>
      withStore(async (store) => {
        await store.ensureFlow(BOOK, flowDetail('run-1'));
        const claimed = await store.acquireLease('run-1', 'conductor-a', 10_000, { fence: 5 });
        await store.saveAtoms('run-1', [atomDetail('a')], claimed);
        const before = await store.loadRun('run-1');
        await rejects(store.acquireLease('run-1', 'conductor-b', 10_000, { fence: 4 }), 'FENCED');
        await rejects(store.acquireLease('run-1', 'conductor-a', 10_000, { fence: 4 }), 'FENCED');
        await rejects(store.acquireLease('run-1', 'conductor-b', 10_000, { fence: 5 }), 'FENCED');
        assert.deepEqual(await store.loadRun('run-1'), before);
        // The holder is unchanged: its lease still writes, and is granted to it again as it was.
        await store.saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING' })], claimed);
        assert.deepEqual(
          await store.acquireLease('run-1', 'conductor-a', 10_000, { fence: 5 }),
          claimed,
        );
      }));

    it('refuses the writes of a claim superseded by a bigger fence, and its renewed acquire', () =>
      withStore(async (store) => {
        await store.ensureFlow(BOOK, flowDetail('run-1'));
        const first = await store.acquireLease('run-1', 'conductor-a', 10_000, { fence: 5 });
        await store.saveAtoms('run-1', [atomDetail('a')], first);
        const second = await store.acquireLease('run-1', 'conductor-b', 10_000, { fence: 7 });
        assert.equal(second.token, 7);
        const before = await store.loadRun('run-1');
        const refused = await rejects(
          store.saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING' })], first),
          'FENCED',
        );
        assert.match(refused.message, /"conductor-b" with token 7/);
        await rejects(
          store.saveAtoms('run-1', [atomDetail('a'), atomDetail('b')], first),
          'FENCED',
        );
        await rejects(store.saveFlow(flowDetail('run-1', { state: 'RUNNING' }), first), 'FENCED');
        await rejects(store.acquireLease('run-1', 'conductor-a', 10_000, { fence: 5 }), 'FENCED');
        await store.releaseLease(first);
        assert.deepEqual(await store.loadRun('run-1'), before);
        await store.saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING' })], second);
      }));

    it('grants the same fence to the same owner again, and renewing a fenced lease changes nothing', () =>
      withStore(async (store, clock) => {
        await store.ensureFlow(BOOK, flowDetail('run-1'));
        const claimed = await store.acquireLease('run-1', 'conductor-a', 10_000, { fence: 3 });
        const again = await store.acquireLease('run-1', 'conductor-a', 60_000, { fence: 3 });
        assert.deepEqual(again, claimed);
        assert.deepEqual(await store.renewLease(claimed, 10_000), claimed);
        // It does not expire by time: only a bigger fence takes it over.
        pass(clock, 1_000_000_000);
        await rejects(store.acquireLease('run-1', 'engine-b', 10_000), 'LEASE_HELD');
        await store.saveAtoms('run-1', [atomDetail('a')], again);
        assert.deepEqual(await store.renewLease(again, 10_000), claimed);
        await store.saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING' })], claimed);
      }));

    it('keeps a released fenced run carried by its job: plain acquires are refused, a bigger fence is granted', () =>
      withStore(async (store, clock) => {
        await store.ensureFlow(BOOK, flowDetail('run-1'));
        const claimed = await store.acquireLease('run-1', 'conductor-a', 10_000, { fence: 5 });
        await store.releaseLease(claimed);
        await store.releaseLease(claimed);
        await rejects(store.saveAtoms('run-1', [atomDetail('a')], claimed), 'FENCED');
        pass(clock, 1_000_000_000);
        const held = await rejects(store.acquireLease('run-1', 'engine-b', 10_000), 'LEASE_HELD');
        assert.match(held.message, /carried by a job/);
        assert.match(held.message, /through the jobboard/);
        // Released means the claim no longer owns it: its own fence is not enough any more.
        await rejects(store.acquireLease('run-1', 'conductor-a', 10_000, { fence: 5 }), 'FENCED');
        const next = await store.acquireLease('run-1', 'conductor-b', 10_000, { fence: 6 });
        assert.equal(next.token, 6);
        await store.saveAtoms('run-1', [atomDetail('a')], next);
      }));

    it('leaves exactly the biggest of 20 concurrent fences holding the lease', () =>
      withStore(async (store) => {
        await store.ensureFlow(BOOK, flowDetail('run-1'));
        // A fixed shuffle of 1..20, so the biggest is neither first nor last.
        const fences = Array.from({ length: 20 }, (_, i) => ((i * 7) % 20) + 1);
        const results = await Promise.allSettled(
          fences.map((fence) =>
            store.acquireLease('run-1', `conductor-${fence}`, 10_000, { fence }),
          ),
        );
        const leases: Lease[] = [];
        for (const [i, result] of results.entries()) {
          if (result.status === 'rejected') {
            assert.ok(isStorageError(result.reason, 'FENCED'), String(result.reason));
            continue;
          }
          assert.equal(result.value.token, fences[i]);
          leases.push(result.value);
        }
        const biggest = leases.find((lease) => lease.token === 20);
        assert.ok(biggest, 'the biggest fence must be granted');
        for (const lease of leases) {
          if (lease === biggest) continue;
          await rejects(store.saveAtoms('run-1', [atomDetail('a')], lease), 'FENCED');
        }
        await store.saveAtoms('run-1', [atomDetail('a')], biggest);
        await rejects(store.acquireLease('run-1', 'conductor-19', 10_000, { fence: 20 }), 'FENCED');
        await rejects(store.acquireLease('run-1', 'engine-a', 10_000), 'LEASE_HELD');
      }));

    it('opens a run in one step: creates it when new, takes the lease, reads it under the lease', () =>
      withStore(async (store, clock) => {
        const detail = flowDetail('run-1', { store: { amount: 5 } });
        const sentAt = Date.now();
        const first = await store.openRun({
          book: BOOK,
          flow: detail,
          owner: 'engine-a',
          ttlMs: 10_000,
        });
        assert.deepEqual(first.flow, detail);
        assert.deepEqual(first.atoms, []);
        assert.equal(first.lease.owner, 'engine-a');
        assertExpiry(first.lease, 10_000, clock, sentAt);
        assert.deepEqual((await store.listLogbooks({})).items, [BOOK]);
        await store.saveAtoms('run-1', [atomDetail('a')], first.lease);
        // Held: refused like acquireLease, and nothing changes.
        const other = { book: BOOK, flow: flowDetail('run-1', { name: 'other' }), ttlMs: 10_000 };
        await rejects(store.openRun({ ...other, owner: 'engine-b' }), 'LEASE_HELD');
        await store.releaseLease(first.lease);
        // An existing run is read as stored, never replaced by the detail passed in.
        const second = await store.openRun({ ...other, owner: 'engine-b' });
        assert.ok(second.lease.token > first.lease.token);
        assert.deepEqual(second.flow, detail);
        assert.deepEqual(second.atoms, [atomDetail('a')]);
        await rejects(store.saveAtoms('run-1', [atomDetail('a')], first.lease), 'FENCED');
        // Fenced by a job claim: a bigger fence wins over the plain lease, a stale one is refused.
        const claimed = await store.openRun({ ...other, owner: 'conductor-c', fence: 7 });
        assert.deepEqual(claimed.lease, {
          flowId: 'run-1',
          owner: 'conductor-c',
          token: 7,
          expiresAt: FENCED_LEASE_EXPIRY,
        });
        await rejects(store.openRun({ ...other, owner: 'conductor-d', fence: 6 }), 'FENCED');
        await rejects(store.openRun({ ...other, owner: 'engine-e' }), 'LEASE_HELD');
        const fresh = await store.openRun({
          book: BOOK,
          flow: flowDetail('run-2'),
          owner: 'conductor-c',
          ttlMs: 10_000,
          fence: 3,
        });
        assert.equal(fresh.lease.token, 3);
        assert.deepEqual(fresh.atoms, []);
      }));

    it('writes atoms, the flow detail and the release as one write, and none of it when refused', () =>
      withStore(async (store) => {
        const lease = await leased(store);
        await store.saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING' })], lease, {
          flow: flowDetail('run-1', { state: 'RUNNING' }),
        });
        assert.equal((await store.loadRun('run-1'))?.flow.state, 'RUNNING');
        const before = await store.loadRun('run-1');
        // The second write of the batch is illegal (a new atom cannot start as SUCCESS): neither
        // the atoms nor the flow land, and the lease is kept.
        await rejects(
          store.saveAtoms(
            'run-1',
            [atomDetail('a', { state: 'SUCCESS' }), atomDetail('b', { state: 'SUCCESS' })],
            lease,
            { flow: flowDetail('run-1', { state: 'SUCCESS' }), release: true },
          ),
          'ILLEGAL_TRANSITION',
        );
        assert.deepEqual(await store.loadRun('run-1'), before);
        assert.equal((await store.readLease('run-1'))?.owner, 'engine-a');
        await store.saveAtoms('run-1', [atomDetail('a', { state: 'SUCCESS' })], lease, {
          flow: flowDetail('run-1', { state: 'SUCCESS' }),
          release: true,
        });
        const after = await store.loadRun('run-1');
        assert.equal(after?.flow.state, 'SUCCESS');
        assert.equal(after?.atoms[0]?.state, 'SUCCESS');
        assert.equal((await store.readLease('run-1'))?.owner, null);
        await rejects(
          store.saveAtoms('run-1', [], lease, { flow: flowDetail('run-1', { state: 'RUNNING' }) }),
          'FENCED',
        );
        // A flow write alone, fenced like saveFlow; a carried run keeps its marker on release.
        const claimed = await store.acquireLease('run-1', 'conductor-b', 10_000, { fence: 9 });
        await store.saveAtoms('run-1', [], claimed, {
          flow: flowDetail('run-1', { state: 'REVERTED' }),
          release: true,
        });
        assert.equal((await store.loadRun('run-1'))?.flow.state, 'REVERTED');
        const carried = await store.readLease('run-1');
        assert.equal(carried?.owner, null);
        assert.equal(carried?.carriedByJob, true);
      }));

    it('writes many runs at once, and a refused write changes only its own run', () =>
      withStore(async (store) => {
        const ids = Array.from({ length: 20 }, (_, i) => `run-${i}`);
        const leases = await Promise.all(ids.map((id) => leased(store, id)));
        // run-7's lease is superseded before its write; run-3's write is an illegal transition.
        await store.acquireLease('run-7', 'conductor-x', 10_000, { fence: 99 });
        const results = await Promise.allSettled(
          ids.map((id, i) =>
            store.saveAtoms(
              id,
              [atomDetail('a'), atomDetail('b', { state: i === 3 ? 'SUCCESS' : 'PENDING' })],
              leases[i] as Lease,
              { flow: flowDetail(id, { state: 'RUNNING' }) },
            ),
          ),
        );
        for (const [i, result] of results.entries()) {
          const run = await store.loadRun(`run-${i}`);
          if (i === 3 || i === 7) {
            assert.equal(result.status, 'rejected');
            const code = i === 3 ? 'ILLEGAL_TRANSITION' : 'FENCED';
            assert.ok(isStorageError((result as PromiseRejectedResult).reason, code), `run-${i}`);
            assert.deepEqual(run, { flow: flowDetail(`run-${i}`), atoms: [] });
          } else {
            assert.equal(result.status, 'fulfilled', `run-${i}`);
            assert.equal(run?.flow.state, 'RUNNING');
            assert.deepEqual(run?.atoms, [atomDetail('a'), atomDetail('b')]);
          }
        }
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

    it('deletes a run and its atoms, and refuses while its lease is held and unexpired', () =>
      withStore(async (store, clock) => {
        await store.ensureFlow(BOOK, flowDetail('run-1'));
        const takenAt = Date.now();
        const lease = await store.acquireLease('run-1', 'engine-a', shortTtl);
        await store.saveAtoms('run-1', [atomDetail('a')], lease);
        assert.deepEqual(await store.readLease('run-1'), {
          owner: 'engine-a',
          token: lease.token,
          expiresAt: lease.expiresAt,
          carriedByJob: false,
        });
        assert.equal(await store.readLease('missing'), undefined);
        const held = await rejects(store.deleteRun('run-1'), 'LEASE_HELD');
        assert.match(held.message, /engine-a/);
        assert.notEqual(await store.loadRun('run-1'), undefined);
        await passExpiry(clock, shortTtl, takenAt);
        await store.deleteRun('run-1');
        assert.equal(await store.loadRun('run-1'), undefined);
        await rejects(store.deleteRun('run-1'), 'RUN_NOT_FOUND');
        // A new run under the same id starts with no atoms of the deleted one.
        await store.ensureFlow(BOOK, flowDetail('run-1'));
        assert.deepEqual((await store.loadRun('run-1'))?.atoms, []);
        // A released plain lease no longer protects the run.
        const again = await store.acquireLease('run-1', 'engine-b', 10_000);
        await store.releaseLease(again);
        await store.deleteRun('run-1');
      }));

    it('refuses to delete a run carried by a job until it is finished and no claim holds it', () =>
      withStore(async (store, clock) => {
        await store.ensureFlow(BOOK, flowDetail('run-1'));
        const claim = await store.acquireLease('run-1', 'conductor-a', 10_000, { fence: 3 });
        await store.saveFlow(flowDetail('run-1', { state: 'RUNNING' }), claim);
        pass(clock, 1_000_000_000);
        await rejects(store.deleteRun('run-1'), 'LEASE_HELD');
        await store.releaseLease(claim);
        assert.deepEqual(await store.readLease('run-1'), {
          owner: null,
          token: 3,
          expiresAt: FENCED_LEASE_EXPIRY,
          carriedByJob: true,
        });
        const carried = await rejects(store.deleteRun('run-1'), 'LEASE_HELD');
        assert.match(carried.message, /carried by a job/);
        const next = await store.acquireLease('run-1', 'conductor-b', 10_000, { fence: 4 });
        await store.saveFlow(flowDetail('run-1', { state: 'SUCCESS' }), next);
        await rejects(store.deleteRun('run-1'), 'LEASE_HELD');
        await store.releaseLease(next);
        await store.deleteRun('run-1');
        assert.equal(await store.loadRun('run-1'), undefined);
      }));

    it('prunes runs by age and state in batches, oldest first, never a leased one', () =>
      withStore(async (store, clock) => {
        const day = 86_400_000;
        const runs: [string, FlowState, number][] = [
          ['old-ok-1', 'SUCCESS', T0 - 40 * day],
          ['old-ok-2', 'SUCCESS', T0 - 39 * day],
          ['old-reverted', 'REVERTED', T0 - 38 * day],
          ['old-failed', 'FAILURE', T0 - 37 * day],
          ['old-leased', 'SUCCESS', T0 - 36 * day],
          ['new-ok', 'SUCCESS', T0 - day],
        ];
        for (const [id, state, updatedAt] of runs)
          await store.ensureFlow(BOOK, flowDetail(id, { state, updatedAt, createdAt: updatedAt }));
        await store.acquireLease('old-leased', 'engine-a', 1_000_000);
        const before = T0 - 30 * day;
        const first = await store.pruneRuns({ before, states: ['SUCCESS', 'REVERTED'], limit: 2 });
        assert.deepEqual(first, { deleted: ['old-ok-1', 'old-ok-2'], more: true });
        const second = await store.pruneRuns({ before, states: ['SUCCESS', 'REVERTED'], limit: 2 });
        assert.deepEqual(second, { deleted: ['old-reverted'], more: false });
        assert.deepEqual(await store.pruneRuns({ before }), { deleted: [], more: false });
        const ids = (await store.listFlows({})).items.map((f) => f.id);
        assert.deepEqual(ids.sort(), ['new-ok', 'old-failed', 'old-leased']);
        if (!serverClock) {
          clock.t = T0;
          const byAge = await store.pruneRuns({ olderThanMs: 30 * day, states: ['FAILURE'] });
          assert.deepEqual(byAge, { deleted: ['old-failed'], more: false });
        }
        await rejects(store.pruneRuns({ states: ['SUCCESS'] }), 'INVALID_ARGUMENT');
        await rejects(store.pruneRuns({ before, olderThanMs: 1 }), 'INVALID_ARGUMENT');
        await rejects(store.pruneRuns({ before, limit: 0 }), 'INVALID_ARGUMENT');
        await rejects(
          store.pruneRuns({ before, states: ['DONE' as FlowState] }),
          'INVALID_ARGUMENT',
        );
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
