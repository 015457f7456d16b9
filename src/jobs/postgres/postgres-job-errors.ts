import { JobBoardError } from '../job-board-error.ts';

// SQLSTATE classes and codes after which the same call may succeed later.
const UNAVAILABLE_STATES = /^(08|53|57P0[1-4]|40001|40P01|55P03|58)/;
const CORRUPT_STATES = /^(XX001|XX002|42P01|42703)/;
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Turns a `pg` error into a {@link JobBoardError}: connection loss, shutdown and contention
 * become `BOARD_UNAVAILABLE` (retryable); missing tables or columns `BOARD_CORRUPT`. Anything
 * else, and JobBoardErrors, pass through unchanged.
 */
export function toPostgresJobBoardError(error: unknown, schema: string): unknown {
  if (error instanceof JobBoardError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const lostConnection =
    /Connection terminated|connection timeout|Client has encountered a connection error|Client was closed/i.test(
      error.message,
    );
  if (
    (typeof code === 'string' && (NETWORK.has(code) || UNAVAILABLE_STATES.test(code))) ||
    lostConnection
  ) {
    return new JobBoardError(
      'BOARD_UNAVAILABLE',
      `PostgreSQL is unavailable (${typeof code === 'string' ? `${code}: ` : ''}${error.message}). The write may not have happened; retry with backoff, and check that the server is up and reachable.`,
      { cause: error },
    );
  }
  if (typeof code === 'string' && CORRUPT_STATES.test(code)) {
    return new JobBoardError(
      'BOARD_CORRUPT',
      `The jobboard tables in PostgreSQL schema "${schema}" are damaged (${code}: ${error.message}); they were changed outside this library. Restore them from a backup.`,
      { cause: error },
    );
  }
  return error;
}
