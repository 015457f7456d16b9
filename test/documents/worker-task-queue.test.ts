import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createMemoryWorkerTaskQueue,
  openWorkerTaskQueue,
  type WorkerTaskOffer,
  type WorkerTaskQueue,
} from '../../src/documents/index.ts';
import { createSqliteRunStore, openPostgresRunStore } from '../../src/index.ts';
import { POSTGRES_URL, testServers } from '../support/servers.ts';

const servers = await testServers('worker-task-queue');

interface Backend {
  readonly label: string;
  readonly skip: string | false;
  readonly open: () => Promise<{ queue: WorkerTaskQueue; close: () => Promise<void> }>;
}

let files = 0;
const BACKENDS: readonly Backend[] = [
  {
    label: 'memory',
    skip: false,
    open: async () => {
      const queue = createMemoryWorkerTaskQueue();
      return { queue, close: () => queue.close() };
    },
  },
  {
    label: 'SQLite',
    skip: false,
    open: async () => {
      const path = join(servers.dir, `runs-${++files}.db`);
      const runs = createSqliteRunStore({ path });
      const queue = await openWorkerTaskQueue(`sqlite://${path}`);
      const close = async (): Promise<void> => {
        await queue.close();
        await runs.close();
      };
      return { queue, close };
    },
  },
  {
    label: 'PostgreSQL',
    skip: servers.pgSkip,
    open: async () => {
      const schema = servers.schemas.next();
      const runs = await openPostgresRunStore({ url: POSTGRES_URL, schema });
      const queue = await openWorkerTaskQueue(`${POSTGRES_URL}?schema=${schema}`);
      const close = async (): Promise<void> => {
        await queue.close();
        await runs.close();
      };
      return { queue, close };
    },
  },
];

const offer = (atom: string, more: Partial<WorkerTaskOffer> = {}): WorkerTaskOffer => ({
  type: 'resize',
  kind: 'execute',
  runId: 'run-1',
  atom,
  idempotencyKey: `run-1:${atom}`,
  round: 1,
  inputs: { width: 10 },
  ...more,
});

for (const backend of BACKENDS) {
  describe(`worker task queue on ${backend.label}`, { skip: backend.skip }, () => {
    async function withQueue(use: (queue: WorkerTaskQueue) => Promise<void>): Promise<void> {
      const { queue, close } = await backend.open();
      try {
        await use(queue);
      } finally {
        await close();
      }
    }

    it('queues one task per atom and kind, however often it is offered', () =>
      withQueue(async (queue) => {
        const first = await queue.offer(offer('a'));
        const again = await queue.offer(offer('a'));
        assert.equal(again.id, first.id);
        assert.equal(first.state, 'QUEUED');
        const revert = await queue.offer(
          offer('a', { kind: 'revert', idempotencyKey: 'run-1:a:revert', executeResult: 'r' }),
        );
        assert.notEqual(revert.id, first.id);
        assert.equal(revert.executeResult, 'r');
      }));

    it('gives the oldest task of the asked types to one worker, with a lease and a token', () =>
      withQueue(async (queue) => {
        await queue.offer(offer('a'));
        await queue.offer(offer('b', { type: 'other' }));
        await queue.offer(offer('c'));
        assert.equal(
          await queue.claim({ types: ['none'], worker: 'w', leaseMs: 60_000 }),
          undefined,
        );
        const claimed = await queue.claim({ types: ['resize'], worker: 'w-1', leaseMs: 60_000 });
        assert.equal(claimed?.atom, 'a');
        assert.equal(claimed?.state, 'CLAIMED');
        assert.equal(claimed?.attempt, 1);
        assert.equal(claimed?.worker, 'w-1');
        assert.ok((claimed?.leaseExpiresAt ?? 0) > Date.now());
        assert.deepEqual(claimed?.inputs, { width: 10 });
        const next = await queue.claim({
          types: ['resize', 'other'],
          worker: 'w-2',
          leaseMs: 60_000,
        });
        assert.equal(next?.atom, 'b');
      }));

    it('gives a task whose lease ran out to another worker, and refuses the first one then', () =>
      withQueue(async (queue) => {
        await queue.offer(offer('a'));
        const stale = await queue.claim({ types: ['resize'], worker: 'w-1', leaseMs: 1 });
        assert.ok(stale);
        await sleep(20);
        const taken = await queue.claim({ types: ['resize'], worker: 'w-2', leaseMs: 60_000 });
        assert.equal(taken?.id, stale.id);
        assert.equal(taken?.attempt, 2);
        assert.ok((taken?.token ?? 0) > stale.token);
        assert.equal(await queue.heartbeat(stale.id, stale.token, 60_000), undefined);
        assert.equal(await queue.settle(stale.id, stale.token, { result: 'late' }), 'stale');
        assert.ok(await queue.heartbeat(stale.id, taken?.token ?? 0, 60_000));
        assert.equal(
          await queue.settle(stale.id, taken?.token ?? 0, { result: 'done' }),
          'settled',
        );
        const done = await queue.get(stale.id);
        assert.equal(done?.state, 'COMPLETED');
        assert.equal(done?.result, 'done');
        assert.equal(await queue.settle(stale.id, taken?.token ?? 0, { result: 'twice' }), 'stale');
        assert.equal(await queue.settle('nope', 1, { result: 1 }), 'missing');
      }));

    it('keeps a failure as the worker sent it, and queues the task again for a retried atom', () =>
      withQueue(async (queue) => {
        await queue.offer(offer('a'));
        const claimed = await queue.claim({ types: ['resize'], worker: 'w', leaseMs: 60_000 });
        assert.ok(claimed);
        const failure = {
          type: 'ResizeError',
          message: 'too big',
          retryable: true,
          details: { max: 5 },
        };
        assert.equal(await queue.settle(claimed.id, claimed.token, { failure }), 'settled');
        assert.deepEqual((await queue.get(claimed.id))?.failure, failure);
        // The same round again (an engine resuming the atom) sees the settled task.
        assert.equal((await queue.offer(offer('a'))).state, 'FAILED');
        const retried = await queue.offer(offer('a', { round: 2, inputs: { width: 4 } }));
        assert.equal(retried.id, claimed.id);
        assert.equal(retried.state, 'QUEUED');
        assert.deepEqual(retried.inputs, { width: 4 });
        assert.equal(retried.failure, undefined);
        const again = await queue.claim({ types: ['resize'], worker: 'w', leaseMs: 60_000 });
        assert.equal(again?.round, 2);
        assert.ok((again?.token ?? 0) > claimed.token);
      }));
  });
}
