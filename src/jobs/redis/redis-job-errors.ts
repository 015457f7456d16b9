import { NETWORK_ERROR_CODES } from '../../drivers/driver-errors.ts';
import type { RedisConnection } from '../../drivers/redis/redis-connection.ts';
import { JobBoardError } from '../job-board-error.ts';

// ioredis' own words for a connection that is down, and server replies that mean "not now".
const UNAVAILABLE =
  /Connection is closed|Stream isn't writeable|LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|max number of clients/;

/**
 * Turns an ioredis error into a {@link JobBoardError}: a lost or refused connection becomes
 * `BOARD_UNAVAILABLE` (retryable), its message naming the server and the last connection
 * error; anything else, and JobBoardErrors, pass through unchanged.
 */
export function toRedisJobBoardError(error: unknown, connection: RedisConnection): unknown {
  if (error instanceof JobBoardError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const network = typeof code === 'string' && NETWORK_ERROR_CODES.has(code);
  if (network || error.name === 'MaxRetriesPerRequestError' || UNAVAILABLE.test(error.message)) {
    return new JobBoardError(
      'BOARD_UNAVAILABLE',
      `Redis at ${connection.address} is unavailable (${connection.detail(error)}). The write may not have happened; retry with backoff, and check that the server is up and reachable.`,
      { cause: error },
    );
  }
  return error;
}
