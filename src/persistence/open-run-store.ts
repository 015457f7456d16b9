import {
  millisecondsParameter,
  redactUrl,
  serverUrl,
  sqliteUrl,
  type UrlRefusal,
  urlScheme,
} from '../drivers/connection-url.ts';
import { missingSqliteFile } from '../drivers/sqlite/sqlite-file.ts';
import type { GuardOptions } from './guarded-run-store.ts';
import { createMemoryRunStore } from './memory/memory-run-store.ts';
import type { RunStore } from './ports.ts';
import { openPostgresRunStore } from './postgres/postgres-run-store.ts';
import { createSqliteRunStore } from './sqlite/sqlite-run-store.ts';
import { StorageError } from './storage-error.ts';

const SUPPORTED =
  'memory://, sqlite:///absolute/path.db, sqlite://relative/path.db, postgres://user@host:5432/db (or postgresql://)';

/** Options of {@link openRunStore}. */
export interface OpenRunStoreOptions extends GuardOptions {
  /**
   * False for commands that only read: a `sqlite://` file that does not exist is then an
   * `INVALID_ARGUMENT` error naming the path, instead of a new, empty database. Default true.
   * Servers (PostgreSQL) never create a database either way.
   */
  readonly create?: boolean;
  /** PostgreSQL: how long opening one connection may take. Default 10,000 ms. */
  readonly connectTimeoutMs?: number;
}

/**
 * Opens the run store a URL names, as the CLI and config files do:
 * - `memory://`: this process's memory, no durability (tests);
 * - `sqlite:///var/lib/app/runs.db` (absolute) or `sqlite://runs.db` (relative to the working
 *   directory); add `?durability=power-loss` to fsync every commit, `&busyTimeoutMs=10000` to wait
 *   longer for other processes' write locks;
 * - `postgres://user:pass@host:5432/db?schema=taskflow` (or `postgresql://`); `schema` defaults
 *   to `public`, every other parameter goes to `pg`.
 *
 * Messages show the URL without its password ({@link redactUrl}).
 *
 * @example
 * const store = await openRunStore('sqlite:///var/lib/app/runs.db');
 * try {
 *   await store.ensureFlow(book, detail);
 * } finally {
 *   await store.close();
 * }
 */
export async function openRunStore(
  url: string,
  options: OpenRunStoreOptions = {},
): Promise<RunStore> {
  const { create = true, connectTimeoutMs, ...guard } = options;
  const scheme = urlScheme(url);
  switch (scheme) {
    case 'memory':
      return createMemoryRunStore(guard);
    case 'sqlite': {
      const file = sqliteOptions(url);
      const missing = create ? undefined : missingSqliteFile(file.path);
      if (missing !== undefined) throw new StorageError('INVALID_ARGUMENT', missing);
      return createSqliteRunStore({ ...file, ...guard });
    }
    case 'postgres':
    case 'postgresql':
      return openPostgresRunStore({
        ...postgresOptions(url),
        ...guard,
        ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
      });
    default:
      throw new StorageError(
        'INVALID_ARGUMENT',
        `Run store URL ${JSON.stringify(redactUrl(url))} has ${scheme === undefined ? 'no scheme' : `the unsupported scheme "${scheme}:"`}; use one of ${SUPPORTED}.`,
      );
  }
}

const refuse: UrlRefusal = (message, cause) =>
  new StorageError('INVALID_ARGUMENT', message, cause === undefined ? {} : { cause });

function sqliteOptions(url: string): {
  path: string;
  durability?: 'process-kill' | 'power-loss';
  busyTimeoutMs?: number;
} {
  const { path, params } = sqliteUrl(url, refuse);
  const durability = params.get('durability');
  if (durability !== null && durability !== 'process-kill' && durability !== 'power-loss') {
    throw refuse(
      `SQLite URL parameter durability=${durability} is unknown; use process-kill (the default) or power-loss.`,
    );
  }
  return {
    path,
    ...(durability === null ? {} : { durability }),
    ...millisecondsParameter(params, 'busyTimeoutMs', refuse),
  };
}

function postgresOptions(url: string): { url: string; schema?: string } {
  const example = 'postgres://user:password@host:5432/database';
  const { url: plain, value } = serverUrl(url, 'schema', example, 'PostgreSQL URL', refuse);
  return { url: plain, ...(value === undefined ? {} : { schema: value }) };
}
