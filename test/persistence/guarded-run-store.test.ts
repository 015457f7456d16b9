import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TaskFlowError } from '../../src/core/errors.ts';
import {
  ATOM_STATES,
  type AtomKind,
  type AtomState,
  isLegalAtomTransition,
} from '../../src/core/states.ts';
import { guardRunStore } from '../../src/persistence/guarded-run-store.ts';
import {
  createMemoryRunStore,
  MemoryRunStoreDriver,
} from '../../src/persistence/memory/memory-run-store.ts';
import { FENCED_LEASE_EXPIRY } from '../../src/persistence/ports.ts';
import { isStorageError, StorageError } from '../../src/persistence/storage-error.ts';
import { atomWriteRule } from '../../src/persistence/write-rules.ts';
import { atomDetail, flowDetail } from '../../src/testing/run-store-contract.ts';

const book = { id: 'book-1', name: 'book', meta: {}, createdAt: 0, updatedAt: 0 };

describe('guarded run store', () => {
  it('allows exactly the legal transitions, the same state again, and PENDING from anywhere', () => {
    for (const kind of ['task', 'retry'] as AtomKind[]) {
      for (const from of ATOM_STATES) {
        for (const to of ATOM_STATES) {
          const expected = from === to || to === 'PENDING' || isLegalAtomTransition(kind, from, to);
          assert.equal(
            atomWriteRule(kind, to).from.includes(from),
            expected,
            `${kind} ${from} -> ${to}`,
          );
        }
      }
      const creatable = ATOM_STATES.filter((to) => atomWriteRule(kind, to).create);
      assert.deepEqual(creatable, ['PENDING', 'RUNNING', 'IGNORE']);
    }
  });

  it('explains an illegal transition with the legal next states', async () => {
    const store = createMemoryRunStore();
    await store.ensureFlow(book, flowDetail('run-1'));
    const lease = await store.acquireLease('run-1', 'engine-a', 1000);
    for (const state of ['RUNNING', 'SUCCESS'] as AtomState[])
      await store.saveAtoms('run-1', [atomDetail('charge', { state })], lease);
    await assert.rejects(
      store.saveAtoms('run-1', [atomDetail('charge', { state: 'REVERTED' })], lease),
      (error: unknown) => {
        assert.ok(isStorageError(error, 'ILLEGAL_TRANSITION'));
        assert.equal(
          error.message,
          'Cannot save atom "charge" of run "run-1": a task cannot move from SUCCESS to REVERTED; from SUCCESS it may move to REVERTING, be written as SUCCESS again, or be reset to PENDING. Nothing was written; the caller (usually the engine) has a bug.',
        );
        return true;
      },
    );
  });

  it('explains fencing and held leases with the owners, tokens and the fix', async () => {
    let now = 0;
    const store = createMemoryRunStore({ now: () => now });
    await store.ensureFlow(book, flowDetail('run-1'));
    const old = await store.acquireLease('run-1', 'engine-a', 1000);
    await assert.rejects(
      store.acquireLease('run-1', 'engine-b', 1000),
      (error: unknown) =>
        isStorageError(error, 'LEASE_HELD') &&
        error.message.includes('"engine-a" holds it (token 1) until 1970-01-01T00:00:01.000Z'),
    );
    now = 1000;
    await store.acquireLease('run-1', 'engine-b', 1000);
    await assert.rejects(
      store.saveAtoms('run-1', [atomDetail('a')], old),
      (error: unknown) =>
        isStorageError(error, 'FENCED') &&
        error.flowId === 'run-1' &&
        error.message.includes(
          'the lease of "engine-a" with token 1 on run "run-1" is no longer current; it is now held by "engine-b" with token 2. Nothing was written.',
        ),
    );
  });

  it('checks arguments before touching the backend', async () => {
    const store = createMemoryRunStore();
    await assert.rejects(
      store.ensureFlow(book, flowDetail('run-1', { logbookId: 'other' })),
      (e: unknown) => isStorageError(e, 'INVALID_ARGUMENT'),
    );
    await assert.rejects(store.ensureFlow(book, flowDetail('')), (e: unknown) =>
      isStorageError(e, 'INVALID_ARGUMENT'),
    );
    await store.ensureFlow(book, flowDetail('run-1'));
    await assert.rejects(store.acquireLease('run-1', 'engine-a', 0), (e: unknown) =>
      isStorageError(e, 'INVALID_ARGUMENT'),
    );
    await assert.rejects(store.acquireLease('run-1', '', 10), (e: unknown) =>
      isStorageError(e, 'INVALID_ARGUMENT'),
    );
    const lease = await store.acquireLease('run-1', 'engine-a', 10);
    const bad = atomDetail('a', { state: 'DONE' as AtomState });
    await assert.rejects(
      store.saveAtoms('run-1', [bad], lease),
      (e: unknown) => isStorageError(e, 'INVALID_ARGUMENT') && /state "DONE"/.test(e.message),
    );
    await assert.rejects(store.listFlows({ states: ['FINISHED' as 'SUCCESS'] }), (e: unknown) =>
      isStorageError(e, 'INVALID_ARGUMENT'),
    );
  });

  it('refuses a fence that is not a positive whole number before touching the backend', async () => {
    const store = createMemoryRunStore();
    await store.ensureFlow(book, flowDetail('run-1'));
    for (const fence of [0, -1, 1.5, Number.NaN, 2 ** 53]) {
      await assert.rejects(
        store.acquireLease('run-1', 'conductor-a', 1000, { fence }),
        (e: unknown) =>
          isStorageError(e, 'INVALID_ARGUMENT') &&
          e.message.startsWith(`Lease fence ${String(fence)} for run "run-1" is invalid`),
      );
    }
    await store.acquireLease('run-1', 'engine-a', 1000);
  });

  it('explains a stale fence, and a plain acquire of a run carried by a job', async () => {
    const store = createMemoryRunStore();
    await store.ensureFlow(book, flowDetail('run-1'));
    const claimed = await store.acquireLease('run-1', 'conductor-a', 1000, { fence: 7 });
    await assert.rejects(
      store.acquireLease('run-1', 'conductor-b', 1000, { fence: 6 }),
      (error: unknown) =>
        isStorageError(error, 'FENCED') &&
        error.message ===
          'Engine "conductor-b" cannot lease run "run-1" with fence 6: "conductor-a" holds the run\'s lease with token 7, and only a bigger fence (or the same fence of the same owner) may take it over, so this job claim has been superseded. Nothing was changed. Stop working on this job; the jobboard has given it to a newer claim.',
    );
    await assert.rejects(
      store.acquireLease('run-1', 'engine-x', 1000),
      (error: unknown) =>
        isStorageError(error, 'LEASE_HELD') &&
        error.message.includes(
          'the run is carried by a job, so only that job\'s current claim may write it ("conductor-a" holds it under the claim with token 7).',
        ),
    );
    await store.releaseLease(claimed);
    await assert.rejects(
      store.acquireLease('run-1', 'engine-x', 1000),
      (error: unknown) =>
        isStorageError(error, 'LEASE_HELD') &&
        error.message.includes('(its last claim (token 7) released it)') &&
        error.message.includes('`taskflow jobs redrive`'),
    );
  });

  it('renews a fenced lease without asking the backend', async () => {
    let renewals = 0;
    class CountingBackend extends MemoryRunStoreDriver {
      override renewLease(request: Parameters<MemoryRunStoreDriver['renewLease']>[0]) {
        renewals += 1;
        return super.renewLease(request);
      }
    }
    const store = guardRunStore(new CountingBackend());
    await store.ensureFlow(book, flowDetail('run-1'));
    const claimed = await store.acquireLease('run-1', 'conductor-a', 1000, { fence: 2 });
    assert.equal(claimed.expiresAt, FENCED_LEASE_EXPIRY);
    assert.equal(await store.renewLease(claimed, 1000), claimed);
    assert.equal(renewals, 0);
  });

  it('makes storage errors TaskFlowErrors with stable codes, retryable only when unavailable', () => {
    const unavailable = new StorageError('STORAGE_UNAVAILABLE', 'down', {
      cause: new Error('ECONNREFUSED'),
    });
    assert.ok(unavailable instanceof TaskFlowError);
    assert.equal(unavailable.name, 'StorageError');
    assert.equal(unavailable.retryable, true);
    assert.equal(new StorageError('FENCED', 'x').retryable, false);
  });
});
