import { TaskFlowError } from '../../core/errors.ts';
import { redactUrl } from '../../drivers/connection-url.ts';
import { storeLocation } from '../../drivers/store-location.ts';
import { openPostgresTokenStore } from './postgres-token-store.ts';
import { openSqliteTokenStore } from './sqlite-token-store.ts';
import type { TokenStore } from './token-store.ts';

/**
 * Opens the token table in the database of the run store a URL names (`sqlite://...` or
 * `postgres://...?schema=...`, as `openRunStore` takes them). Open the run store first: a new
 * SQLite file is made by the run store, not here.
 *
 * @example
 * const tokens = await openTokenStore(process.env.TASKFLOW_RUNS ?? 'sqlite://.taskflow/runs.db');
 */
export async function openTokenStore(url: string): Promise<TokenStore> {
  const location = storeLocation(url);
  if (location?.kind === 'sqlite') return openSqliteTokenStore(location.path);
  if (location?.kind === 'postgres') return openPostgresTokenStore(location);
  throw new TaskFlowError(
    'INVALID_ARGUMENT',
    `The service keeps its tokens in the run store's database, but ${JSON.stringify(redactUrl(url))} is not a sqlite:// or postgres:// URL; give the service a durable run store with --runs.`,
  );
}
