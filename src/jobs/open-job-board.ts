import {
  millisecondsParameter,
  redactUrl,
  serverUrl,
  sqliteUrl,
  type UrlRefusal,
  urlScheme,
} from '../drivers/connection-url.ts';
import { missingSqliteFile } from '../drivers/sqlite/sqlite-file.ts';
import type { JobBoardOptions } from './guarded-job-board.ts';
import { JobBoardError } from './job-board-error.ts';
import { createMemoryJobBoard } from './memory/memory-job-board.ts';
import type { JobBoard } from './ports.ts';
import { openPostgresJobBoard } from './postgres/postgres-job-board.ts';
import { openRedisJobBoard } from './redis/redis-job-board.ts';
import { createSqliteJobBoard } from './sqlite/sqlite-job-board.ts';

const SUPPORTED =
  'memory://, sqlite:///absolute/path.db, sqlite://relative/path.db, postgres://user@host:5432/db (or postgresql://), redis://host:6379/0 (or rediss://)';

/** Options of {@link openJobBoard}. */
export interface OpenJobBoardOptions extends JobBoardOptions {
  /** Redis key prefix, when the URL has no `?prefix=`. Default `taskflow`. */
  readonly prefix?: string;
  /**
   * False for commands that only read: a `sqlite://` file that does not exist is then an
   * `INVALID_ARGUMENT` error naming the path, instead of a new, empty database. Default true.
   * Servers (PostgreSQL, Redis) never create a database either way.
   */
  readonly create?: boolean;
  /** PostgreSQL: how long opening one connection may take. Default 10,000 ms. */
  readonly connectTimeoutMs?: number;
}

/**
 * Opens the jobboard a URL names, as the CLI and config files do:
 * - `memory://`: this process's memory, no durability (tests);
 * - `sqlite:///var/lib/app/taskflow.db` (absolute) or `sqlite://jobs.db` (relative); optional
 *   `?busyTimeoutMs=10000&pollMs=25`;
 * - `postgres://user:pass@host:5432/db?schema=taskflow` (or `postgresql://`); `schema`
 *   defaults to `public`, every other parameter goes to `pg`;
 * - `redis://host:6379/0?prefix=app-jobs` (or `rediss://` for TLS); `prefix` defaults to
 *   `taskflow`.
 *
 * Messages show the URL without its password ({@link redactUrl}).
 *
 * @example
 * const board = await openJobBoard('postgres://app@db:5432/app?schema=taskflow');
 * try {
 *   const job = await board.post({ name: 'nightly', flow: { name: 'report', version: '2' } });
 *   console.log((await board.wait(job.id, { timeoutMs: 60_000 })).outcome);
 * } finally {
 *   await board.close();
 * }
 */
export async function openJobBoard(
  url: string,
  options: OpenJobBoardOptions = {},
): Promise<JobBoard> {
  const { create = true, connectTimeoutMs, ...rest } = options;
  const scheme = urlScheme(url);
  switch (scheme) {
    case 'memory':
      return createMemoryJobBoard(rest);
    case 'sqlite': {
      const file = sqliteOptions(url);
      const missing = create ? undefined : missingSqliteFile(file.path);
      if (missing !== undefined) throw new JobBoardError('INVALID_ARGUMENT', missing);
      return createSqliteJobBoard({ ...rest, ...file });
    }
    case 'postgres':
    case 'postgresql': {
      const example = 'postgres://user:password@host:5432/database';
      const server = serverUrl(url, 'schema', example, 'Jobboard URL', refuse);
      return openPostgresJobBoard({
        ...rest,
        ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
        url: server.url,
        ...(server.value === undefined ? {} : { schema: server.value }),
      });
    }
    case 'redis':
    case 'rediss': {
      const server = serverUrl(url, 'prefix', 'redis://host:6379/0', 'Jobboard URL', refuse);
      const prefix = server.value ?? options.prefix;
      return openRedisJobBoard({
        ...rest,
        url: server.url,
        ...(prefix === undefined ? {} : { prefix }),
      });
    }
    default:
      throw new JobBoardError(
        'INVALID_ARGUMENT',
        `Jobboard URL ${JSON.stringify(redactUrl(url))} has ${scheme === undefined ? 'no scheme' : `the unsupported scheme "${scheme}:"`}; use one of ${SUPPORTED}.`,
      );
  }
}

const refuse: UrlRefusal = (message, cause) =>
  new JobBoardError('INVALID_ARGUMENT', message, cause === undefined ? {} : { cause });

function sqliteOptions(url: string): { path: string; busyTimeoutMs?: number; pollMs?: number } {
  const { path, params } = sqliteUrl(url, refuse);
  return {
    path,
    ...millisecondsParameter(params, 'busyTimeoutMs', refuse),
    ...millisecondsParameter(params, 'pollMs', refuse),
  };
}
