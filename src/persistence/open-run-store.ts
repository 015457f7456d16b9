import { redactUrl } from '../drivers/connection-url.ts';
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
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
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

function sqliteOptions(url: string): {
  path: string;
  durability?: 'process-kill' | 'power-loss';
  busyTimeoutMs?: number;
} {
  const [rest = '', query = ''] = url.slice('sqlite://'.length).split('?', 2);
  const path = decodeURIComponent(rest);
  if (!url.toLowerCase().startsWith('sqlite://') || path === '') {
    throw new StorageError(
      'INVALID_ARGUMENT',
      `SQLite URL ${JSON.stringify(redactUrl(url))} names no file; write sqlite:///absolute/path.db or sqlite://relative/path.db.`,
    );
  }
  const params = new URLSearchParams(query);
  const durability = params.get('durability');
  const busy = params.get('busyTimeoutMs');
  if (durability !== null && durability !== 'process-kill' && durability !== 'power-loss') {
    throw new StorageError(
      'INVALID_ARGUMENT',
      `SQLite URL parameter durability=${durability} is unknown; use process-kill (the default) or power-loss.`,
    );
  }
  if (busy !== null && !/^\d+$/.test(busy)) {
    throw new StorageError(
      'INVALID_ARGUMENT',
      `SQLite URL parameter busyTimeoutMs=${busy} is not a whole number of milliseconds.`,
    );
  }
  return {
    path,
    ...(durability === null ? {} : { durability }),
    ...(busy === null ? {} : { busyTimeoutMs: Number(busy) }),
  };
}

function postgresOptions(url: string): { url: string; schema?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new StorageError(
      'INVALID_ARGUMENT',
      `PostgreSQL URL ${JSON.stringify(redactUrl(url))} cannot be parsed; write postgres://user:password@host:5432/database.`,
      { cause: error },
    );
  }
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  return { url: parsed.toString(), ...(schema === null ? {} : { schema }) };
}
