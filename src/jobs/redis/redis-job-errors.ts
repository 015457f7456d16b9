import { NETWORK_ERROR_CODES } from '../../drivers/driver-errors.ts';
import { JobBoardError } from '../job-board-error.ts';

/**
 * Turns an ioredis error into a {@link JobBoardError}: a lost or refused connection becomes
 * `BOARD_UNAVAILABLE` (retryable); anything else, and JobBoardErrors, pass through unchanged.
 */
export function toRedisJobBoardError(error: unknown): unknown {
  if (error instanceof JobBoardError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const network = typeof code === 'string' && NETWORK_ERROR_CODES.has(code);
  if (
    network ||
    error.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|LOADING|BUSY|READONLY/.test(error.message)
  ) {
    return new JobBoardError(
      'BOARD_UNAVAILABLE',
      `Redis is unavailable (${error.message}). The write may not have happened; retry with backoff, and check that the server is up and reachable.`,
      { cause: error },
    );
  }
  return error;
}
