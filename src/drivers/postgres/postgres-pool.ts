import type pg from 'pg';
import { loadDriver } from '../load-driver.ts';

/** How long a new connection may take before it fails, unless `connectTimeoutMs` says. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** A named statement: `pg` prepares it once per connection, then sends only Bind/Execute. */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

/** A value bound to a statement parameter. */
export type SqlValue = string | number | boolean | null | readonly string[];

/** Quotes an SQL identifier (a schema name), doubling any quote inside it. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Runs one named statement on the pool. A driver error is thrown as `toError` turns it, so
 * each adapter reports failures with its own error class and codes.
 */
export async function runStatement<R extends object>(
  pool: pg.Pool,
  statement: NamedStatement,
  values: readonly SqlValue[],
  toError: (error: unknown) => unknown,
): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>({ name: statement.name, text: statement.text, values: [...values] });
  } catch (error) {
    throw toError(error);
  }
}

/**
 * The schema option's value, `public` when absent; an empty name is thrown as `refuse` makes
 * it from the message, so each adapter reports it with its own error class.
 */
export function schemaName(schema: string | undefined, refuse: (message: string) => Error): string {
  if (schema === undefined) return 'public';
  if (schema.length > 0) return schema;
  throw refuse(
    'The PostgreSQL schema name is empty; pass a name such as "taskflow", or omit it for "public".',
  );
}

/** Where an adapter's connections come from: a pool the caller owns, or a URL to make one. */
export type PostgresConnection =
  | {
      /**
       * A pool you created; `close()` leaves it open. Give it an 'error' listener: `pg`
       * emits errors of idle connections there (e.g. after a server restart). Every client
       * checked out of it gets an 'error' listener of ours (see {@link guardPoolClients}).
       */
      readonly pool: pg.Pool;
    }
  | {
      /** `postgres://user@host:5432/db`; the adapter owns the pool and ends it on `close()`. */
      readonly url: string;
      /** Connections in the pool made from the URL. Default 10. */
      readonly maxConnections?: number;
      /**
       * How long opening one connection may take (TCP, TLS and authentication) before it
       * fails as unavailable, e.g. for a black-holed host. Default 10,000 ms.
       */
      readonly connectTimeoutMs?: number;
    };

/** Pools whose clients already get an 'error' listener on checkout. */
const guardedPools = new WeakSet<pg.Pool>();

/**
 * Gives every client checked out of `pool` (by `pool.connect()`: migrations, LISTEN) an
 * 'error' listener for life. `pg` emits a connection's errors (ECONNRESET, "Connection
 * terminated unexpectedly") on its client, and an EventEmitter with no 'error' listener throws
 * them, killing the process; the pool listens only while a client is idle, `pool.query` only
 * during its query, and a caller's own listener may come too late: `pool.connect()` resolves
 * a microtask after the hand-over, and the error can arrive in the same network read. The
 * pool emits 'acquire' synchronously at the hand-over, for new and reused clients alike, and
 * for pools the caller made too. The listener has nothing to do: `pg` also fails the query in
 * flight with the error, and every later query on that client with "not queryable", which the
 * adapters report as unavailable (retryable); the pool discards a failed client on release.
 */
export function guardPoolClients(pool: pg.Pool): void {
  if (guardedPools.has(pool)) return;
  guardedPools.add(pool);
  const guarded = new WeakSet<pg.PoolClient>();
  const ignore = (): void => {};
  pool.on('acquire', (client) => {
    if (guarded.has(client)) return;
    guarded.add(client);
    client.on('error', ignore);
  });
}

/**
 * Takes the caller's pool or makes one from the URL (`maxConnections`, default 10), then runs
 * `prepare` (the schema migration). A pool made here is ended again when `prepare` fails, and
 * the failure is thrown as `toError` turns it. Every client checked out of the pool carries
 * an 'error' listener ({@link guardPoolClients}), so a server restart at any moment, start-up
 * and migrations included, is the error of some call, never of the process.
 */
export async function connectPostgres(
  options: PostgresConnection,
  prepare: (pool: pg.Pool) => Promise<void>,
  toError: (error: unknown) => unknown,
): Promise<{ readonly pool: pg.Pool; readonly owned: boolean }> {
  const owned = 'url' in options;
  const timeoutMs = owned ? (options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS) : undefined;
  const pool = owned
    ? new (loadDriver<typeof pg>('pg', 'postgres:// URLs').Pool)({
        connectionString: options.url,
        max: options.maxConnections ?? 10,
        connectionTimeoutMillis: timeoutMs,
      })
    : options.pool;
  // Without a listener, an idle connection dropped by the server would crash the process;
  // the pool has discarded it already, and the next query simply gets a fresh connection.
  if (owned) pool.on('error', () => {});
  guardPoolClients(pool);
  try {
    await prepare(pool);
  } catch (error) {
    if (owned) await pool.end().catch(() => {});
    throw toError(
      timeoutMs === undefined ? error : explainTimeout(error, serverOf(options), timeoutMs),
    );
  }
  return { pool, owned };
}

/**
 * `pg`'s connect timeouts ("timeout exceeded when trying to connect", "Connection terminated
 * due to connection timeout") as an `ETIMEDOUT` error naming the server and the limit, which
 * the adapters report as unavailable; other errors unchanged.
 */
function explainTimeout(error: unknown, server: string, timeoutMs: number): unknown {
  if (!(error instanceof Error) || !CONNECT_TIMEOUT.test(error.message)) return error;
  const explained = new Error(
    `no connection to ${server} within ${timeoutMs} ms (connectTimeoutMs); the host may be unreachable, or not a PostgreSQL server`,
    { cause: error },
  );
  return Object.assign(explained, { code: 'ETIMEDOUT' });
}

const CONNECT_TIMEOUT = /timeout exceeded when trying to connect|connection timeout/i;

/** `host:port` of a URL connection, for messages (never its password). */
function serverOf(options: PostgresConnection): string {
  if (!('url' in options)) return 'the server';
  try {
    const { hostname, port } = new URL(options.url);
    return hostname === '' ? 'the server' : `${hostname}:${port === '' ? '5432' : port}`;
  } catch {
    return 'the server';
  }
}
