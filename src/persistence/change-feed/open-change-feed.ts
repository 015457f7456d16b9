import { redactUrl } from '../../drivers/connection-url.ts';
import { storeLocation } from '../../drivers/store-location.ts';
import { StorageError } from '../storage-error.ts';
import type { RunChangeFeed } from './change-feed.ts';
import { openPostgresChangeFeed } from './postgres-change-feed.ts';
import { openSqliteChangeFeed } from './sqlite-change-feed.ts';

/**
 * Opens the change feed of the run store a URL names (`sqlite://...` or
 * `postgres://...?schema=...`, as `openRunStore` takes them). Open the run store first.
 *
 * @example
 * const feed = await openRunChangeFeed('postgres://app@db:5432/app?schema=taskflow');
 */
export async function openRunChangeFeed(url: string): Promise<RunChangeFeed> {
  const location = storeLocation(url);
  if (location?.kind === 'sqlite') return openSqliteChangeFeed({ path: location.path });
  if (location?.kind === 'postgres') return openPostgresChangeFeed(location);
  throw new StorageError(
    'INVALID_ARGUMENT',
    `Only sqlite:// and postgres:// run stores have a change feed, not ${JSON.stringify(redactUrl(url))}; give the service a durable run store with --runs.`,
  );
}
