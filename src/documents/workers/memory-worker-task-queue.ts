import {
  newWorkerTask,
  offerKey,
  type WorkerTask,
  type WorkerTaskQueue,
} from './worker-task-queue.ts';

/**
 * Worker tasks in this process only (tests, a `memory://` run store): gone at exit.
 *
 * @example
 * const queue = createMemoryWorkerTaskQueue();
 */
export function createMemoryWorkerTaskQueue(
  options: { readonly now?: () => number } = {},
): WorkerTaskQueue {
  const now = options.now ?? Date.now;
  const byKey = new Map<string, WorkerTask>();
  const byId = new Map<string, string>();
  // Insertion order, for claims oldest first.
  const order = new Map<string, number>();
  const put = (task: WorkerTask): WorkerTask => {
    byKey.set(offerKey(task), task);
    byId.set(task.id, offerKey(task));
    return structuredClone(task);
  };
  const find = (id: string): WorkerTask | undefined => {
    const key = byId.get(id);
    return key === undefined ? undefined : byKey.get(key);
  };
  return {
    async offer(offer) {
      const known = byKey.get(offerKey(offer));
      if (known === undefined) {
        const task = newWorkerTask(offer, now());
        order.set(task.id, order.size);
        return put(task);
      }
      const settled = known.state === 'COMPLETED' || known.state === 'FAILED';
      if (!settled || known.round >= offer.round) return structuredClone(known);
      const { result: _result, failure: _failure, executeResult: _old, ...rest } = known;
      return put({
        ...rest,
        ...offer,
        state: 'QUEUED',
        worker: null,
        leaseExpiresAt: null,
        updatedAt: now(),
      });
    },
    async claim({ types, worker, leaseMs }) {
      const at = now();
      const ready = [...byKey.values()]
        .filter(
          (t) =>
            types.includes(t.type) &&
            (t.state === 'QUEUED' || (t.state === 'CLAIMED' && (t.leaseExpiresAt ?? 0) < at)),
        )
        .sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
      const task = ready[0];
      if (task === undefined) return undefined;
      return put({
        ...task,
        state: 'CLAIMED',
        attempt: task.attempt + 1,
        token: task.token + 1,
        worker,
        leaseExpiresAt: at + leaseMs,
        updatedAt: at,
      });
    },
    async heartbeat(id, token, leaseMs) {
      const task = find(id);
      if (task === undefined || task.token !== token || task.state !== 'CLAIMED') return undefined;
      const at = now();
      return put({ ...task, leaseExpiresAt: at + leaseMs, updatedAt: at });
    },
    async settle(id, token, outcome) {
      const task = find(id);
      if (task === undefined) return 'missing';
      if (task.token !== token || task.state !== 'CLAIMED') return 'stale';
      put({
        ...task,
        ...outcome,
        state: 'result' in outcome ? 'COMPLETED' : 'FAILED',
        leaseExpiresAt: null,
        updatedAt: now(),
      });
      return 'settled';
    },
    async get(id) {
      const task = find(id);
      return task === undefined ? undefined : structuredClone(task);
    },
    async close() {},
  };
}
