import { type DriverErrorKinds, NETWORK_ERROR_CODES } from '../driver-errors.ts';

// SQLSTATE classes and codes after which the same call may succeed later.
const UNAVAILABLE_STATES = /^(08|53|57P0[1-4]|40001|40P01|55P03|58)/;
const CORRUPT_STATES = /^(XX001|XX002|42P01|42703)/;
// "timeout exceeded when trying to connect" is the pool's connect timeout (connectTimeoutMs).
const LOST_CONNECTION =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/** How an adapter reports `pg` errors: its error class, codes, and how it names its tables. */
export interface PostgresErrorKinds<C extends string> extends DriverErrorKinds<C> {
  /** What the damaged tables are called in messages, e.g. "taskflow" or "jobboard". */
  readonly tables: string;
  /** Also takes `pg`'s "Client was closed" (a pool or client used after `end()`) as lost. */
  readonly closedClientIsLost?: boolean;
}

/**
 * Turns a `pg` error into the adapter's error class with a code programs can act on:
 * connection loss, server shutdown and lock contention become `kinds.unavailable`; missing
 * tables or columns and damaged data `kinds.corrupt`. Anything else, and errors already of
 * the class, pass through unchanged.
 */
export function toPostgresError<C extends string>(
  error: unknown,
  schema: string,
  kinds: PostgresErrorKinds<C>,
): unknown {
  if (error instanceof kinds.errorClass || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const lostConnection =
    LOST_CONNECTION.test(error.message) ||
    (kinds.closedClientIsLost === true && /Client was closed/i.test(error.message));
  if (
    (typeof code === 'string' &&
      (NETWORK_ERROR_CODES.has(code) || UNAVAILABLE_STATES.test(code))) ||
    lostConnection
  ) {
    return new kinds.errorClass(
      kinds.unavailable,
      `PostgreSQL is unavailable (${typeof code === 'string' ? `${code}: ` : ''}${error.message}). The write may not have happened; retry with backoff, and check that the server is up and reachable.`,
      { cause: error },
    );
  }
  if (typeof code === 'string' && CORRUPT_STATES.test(code)) {
    return new kinds.errorClass(
      kinds.corrupt,
      `The ${kinds.tables} tables in PostgreSQL schema "${schema}" are damaged (${code}: ${error.message}); they were changed outside this library. Restore them from a backup.`,
      { cause: error },
    );
  }
  return error;
}
