import pg from 'pg';

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
       * emits errors of idle connections there (e.g. after a server restart).
       */
      readonly pool: pg.Pool;
    }
  | {
      /** `postgres://user@host:5432/db`; the adapter owns the pool and ends it on `close()`. */
      readonly url: string;
      /** Connections in the pool made from the URL. Default 10. */
      readonly maxConnections?: number;
    };

/**
 * Takes the caller's pool or makes one from the URL (`maxConnections`, default 10), then runs
 * `prepare` (the schema migration). A pool made here is ended again when `prepare` fails, and
 * the failure is thrown as `toError` turns it.
 */
export async function connectPostgres(
  options: PostgresConnection,
  prepare: (pool: pg.Pool) => Promise<void>,
  toError: (error: unknown) => unknown,
): Promise<{ readonly pool: pg.Pool; readonly owned: boolean }> {
  const owned = 'url' in options;
  const pool = owned
    ? new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 10 })
    : options.pool;
  // Without a listener, an idle connection dropped by the server would crash the process;
  // the next query simply gets a fresh connection.
  if (owned) pool.on('error', () => {});
  try {
    await prepare(pool);
  } catch (error) {
    if (owned) await pool.end();
    throw toError(error);
  }
  return { pool, owned };
}
