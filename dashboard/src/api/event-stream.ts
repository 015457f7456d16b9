import { type Api, ApiError, parseProblem } from './client.ts';
import type { RunChange } from './types.ts';

/** Options of {@link followEvents}. */
export interface FollowOptions {
  /** `/v1/events` or `/v1/runs/{id}/events`. */
  readonly path: string;
  readonly onEvents: (events: readonly RunChange[]) => void;
  /** Called with true once connected, false while reconnecting. */
  readonly onConnection?: (connected: boolean) => void;
  readonly signal: AbortSignal;
}

/** Wait before reconnecting, unless the service sent a `retry:` hint. */
const DEFAULT_RETRY_MS = 1000;
const MAX_RETRY_MS = 15_000;

/**
 * Follows a Server-Sent Event stream of the service until the signal aborts. It reads the stream
 * with `fetch` rather than `EventSource`, since EventSource cannot send the Authorization header;
 * after a dropped connection it reconnects with `Last-Event-ID`, so no event is lost or repeated.
 * Events that arrive together are delivered together, for one render per batch.
 */
export async function followEvents(api: Api, options: FollowOptions): Promise<void> {
  let lastId: string | undefined;
  let retryMs = DEFAULT_RETRY_MS;
  let failures = 0;
  while (!options.signal.aborted) {
    try {
      const response = await fetch(api.url(options.path), {
        headers: api.headers({
          Accept: 'text/event-stream',
          ...(lastId === undefined ? {} : { 'Last-Event-ID': lastId }),
        }),
        signal: options.signal,
      });
      if (!response.ok || response.body === null) {
        const error = new ApiError(
          response.status,
          parseProblem(await response.text()),
          `${options.path} answered ${response.status}.`,
        );
        if (response.status === 401) {
          api.unauthorized(error);
          return;
        }
        throw error;
      }
      options.onConnection?.(true);
      failures = 0;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop() ?? '';
        const events: RunChange[] = [];
        for (const block of blocks) {
          const parsed = parseBlock(block);
          if (parsed.retry !== undefined) retryMs = parsed.retry;
          if (parsed.id !== undefined) lastId = parsed.id;
          if (parsed.data !== undefined) events.push(JSON.parse(parsed.data) as RunChange);
        }
        if (events.length > 0) options.onEvents(events);
      }
    } catch (error) {
      if (options.signal.aborted) return;
      if (!(error instanceof ApiError) && !(error instanceof TypeError)) throw error;
      failures++;
    }
    options.onConnection?.(false);
    await sleep(Math.min(MAX_RETRY_MS, retryMs * 2 ** Math.min(failures, 4)), options.signal);
  }
}

function parseBlock(block: string): { id?: string; data?: string; retry?: number } {
  const data: string[] = [];
  const result: { id?: string; data?: string; retry?: number } = {};
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') result.id = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) result.retry = Number(value);
  }
  if (data.length > 0) result.data = data.join('\n');
  return result;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
