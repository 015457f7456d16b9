import { TaskFlowError } from '../../core/errors.ts';
import { redactUrl, urlScheme } from '../../drivers/connection-url.ts';
import { storeLocation } from '../../drivers/store-location.ts';
import type { DefinitionStore } from './definition-store.ts';
import { createMemoryDefinitionStore } from './memory-definition-store.ts';
import { openPostgresDefinitionStore } from './postgres-definition-store.ts';
import { openSqliteDefinitionStore } from './sqlite-definition-store.ts';

/**
 * Opens the definitions table in the database of the run store a URL names (`sqlite://...`,
 * `postgres://...?schema=...`, as `openRunStore` takes them; `memory://` keeps them in this
 * process). Open the run store first: a new SQLite file is made by the run store, not here.
 *
 * @example
 * const definitions = await openDefinitionStore(process.env.TASKFLOW_RUNS ?? 'sqlite://.taskflow/runs.db');
 */
export async function openDefinitionStore(url: string): Promise<DefinitionStore> {
  const location = storeLocation(url);
  if (location?.kind === 'sqlite') return openSqliteDefinitionStore(location.path);
  if (location?.kind === 'postgres') return openPostgresDefinitionStore(location);
  if (urlScheme(url) === 'memory') return createMemoryDefinitionStore();
  throw new TaskFlowError(
    'INVALID_ARGUMENT',
    `Flow definitions live in the run store's database, but ${JSON.stringify(redactUrl(url))} is not a sqlite://, postgres:// or memory:// URL; pass the run store's URL.`,
  );
}
