import type {
  SettleResult,
  WorkerOutcome,
  WorkerTask,
  WorkerTaskOffer,
  WorkerTaskQueue,
} from './worker-task-queue.ts';

/**
 * Wake-ups of a worker task queue within one process: an engine waiting for its task and a
 * worker's long-polling claim are woken when this process settles or offers a task, instead of
 * waiting for their next poll. Across processes they still poll, so a wake-up is only ever a
 * shortcut, never needed for correctness.
 */
export interface WorkerTaskWakeUps {
  /** Resolves when task `id` is settled here, or after `maxMs`, or when `signal` aborts. */
  untilSettled(id: string, maxMs: number, signal?: AbortSignal): Promise<void>;
  /** Resolves when a task of one of `types` is offered here, or after `maxMs`, or on abort. */
  untilOffered(types: readonly string[], maxMs: number, signal?: AbortSignal): Promise<void>;
}

/** A queue with in-process wake-ups. */
export type WakingWorkerTaskQueue = WorkerTaskQueue & WorkerTaskWakeUps;

/**
 * Wraps a queue with {@link WorkerTaskWakeUps}; the queue's behaviour is unchanged.
 *
 * @example
 * const queue = wakingQueue(openSqliteWorkerTaskQueue(path));
 * await queue.untilSettled(task.id, 1000, signal);
 */
export function wakingQueue(queue: WorkerTaskQueue): WakingWorkerTaskQueue {
  const settledWaiters = new Map<string, Set<() => void>>();
  const offerWaiters = new Set<{ types: readonly string[]; wake: () => void }>();
  const wait = (
    maxMs: number,
    signal: AbortSignal | undefined,
    register: (wake: () => void) => () => void,
  ): Promise<void> =>
    new Promise((resolve) => {
      let unregister: () => void = () => undefined;
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        unregister();
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      if (signal?.aborted) {
        done();
        return;
      }
      signal?.addEventListener('abort', done, { once: true });
      unregister = register(done);
    });
  return {
    async offer(offer: WorkerTaskOffer): Promise<WorkerTask> {
      const task = await queue.offer(offer);
      if (task.state === 'QUEUED') {
        for (const waiter of offerWaiters) if (waiter.types.includes(task.type)) waiter.wake();
      }
      return task;
    },
    claim: (request) => queue.claim(request),
    heartbeat: (id, token, leaseMs) => queue.heartbeat(id, token, leaseMs),
    async settle(id: string, token: number, outcome: WorkerOutcome): Promise<SettleResult> {
      const settled = await queue.settle(id, token, outcome);
      if (settled === 'settled') for (const wake of settledWaiters.get(id) ?? []) wake();
      return settled;
    },
    get: (id) => queue.get(id),
    close: () => queue.close(),
    untilSettled(id, maxMs, signal) {
      return wait(maxMs, signal, (wake) => {
        let waiters = settledWaiters.get(id);
        if (waiters === undefined) {
          waiters = new Set();
          settledWaiters.set(id, waiters);
        }
        waiters.add(wake);
        return () => {
          waiters.delete(wake);
          if (waiters.size === 0) settledWaiters.delete(id);
        };
      });
    },
    untilOffered(types, maxMs, signal) {
      return wait(maxMs, signal, (wake) => {
        const waiter = { types, wake };
        offerWaiters.add(waiter);
        return () => offerWaiters.delete(waiter);
      });
    },
  };
}
