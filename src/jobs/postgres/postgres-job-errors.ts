import {
  type PostgresErrorKinds,
  toPostgresError,
} from '../../drivers/postgres/postgres-errors.ts';
import { JobBoardError } from '../job-board-error.ts';

const BOARD_KINDS: PostgresErrorKinds<'BOARD_UNAVAILABLE' | 'BOARD_CORRUPT'> = {
  errorClass: JobBoardError,
  unavailable: 'BOARD_UNAVAILABLE',
  corrupt: 'BOARD_CORRUPT',
  tables: 'jobboard',
  closedClientIsLost: true,
};

/**
 * Turns a `pg` error into a {@link JobBoardError}: connection loss, shutdown and contention
 * become `BOARD_UNAVAILABLE` (retryable); missing tables or columns `BOARD_CORRUPT`. Anything
 * else, and JobBoardErrors, pass through unchanged.
 */
export function toPostgresJobBoardError(error: unknown, schema: string): unknown {
  return toPostgresError(error, schema, BOARD_KINDS);
}
