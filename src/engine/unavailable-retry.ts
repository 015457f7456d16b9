import type { Clock } from '../core/clock.ts';
import { isRetryable } from '../core/errors.ts';

const ATTEMPTS = 6;
const FIRST_DELAY_MS = 50;

/**
 * Calls `call` again, with exponential backoff (50 ms doubling, 6 attempts, about 1.5 s in
 * all), while it fails with an error marked `retryable` (a backend briefly unavailable); any
 * other error, and the last retryable one, pass through.
 */
export async function retryingUnavailable<T>(clock: Clock, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retryable = isRetryable(error);
      if (!retryable || attempt >= ATTEMPTS) throw error;
      await clock.sleep(FIRST_DELAY_MS * 2 ** (attempt - 1));
    }
  }
}
