import { TaskFlowError } from '../../core/errors.ts';
import { redactUrl, urlScheme } from '../../drivers/connection-url.ts';
import { storeLocation } from '../../drivers/store-location.ts';
import { createMemoryWorkerTaskQueue } from './memory-worker-task-queue.ts';
import { openPostgresWorkerTaskQueue } from './postgres-worker-task-queue.ts';
import { openSqliteWorkerTaskQueue } from './sqlite-worker-task-queue.ts';
import { type WakingWorkerTaskQueue, wakingQueue } from './waking-queue.ts';

/**
 * Opens the worker task queue in the database of the run store a URL names (`sqlite://`,
 * `postgres://...?schema=...`; `memory://` keeps it in this process), so engines and the
 * service's worker routes in different processes share it (with wake-ups within a process,
 * see `wakingQueue`). Open the run store first.
 *
 * @example
 * const workers = await openWorkerTaskQueue('sqlite://.taskflow/runs.db');
 */
export async function openWorkerTaskQueue(url: string): Promise<WakingWorkerTaskQueue> {
  const location = storeLocation(url);
  if (location?.kind === 'sqlite') return wakingQueue(openSqliteWorkerTaskQueue(location.path));
  if (location?.kind === 'postgres')
    return wakingQueue(await openPostgresWorkerTaskQueue(location));
  if (urlScheme(url) === 'memory') return wakingQueue(createMemoryWorkerTaskQueue());
  throw new TaskFlowError(
    'INVALID_ARGUMENT',
    `Worker tasks live in the run store's database, but ${JSON.stringify(redactUrl(url))} is not a sqlite://, postgres:// or memory:// URL; pass the run store's URL.`,
  );
}
