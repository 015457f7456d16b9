import type { Context } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import type { RunChange, RunChangeFeed } from '../persistence/change-feed/change-feed.ts';

/** How long a stream waits for changes before it sends a keep-alive comment. */
const KEEP_ALIVE_MS = 15_000;
/** What a client is told to wait before reconnecting after the service closed its stream. */
export const RECONNECT_HINT_MS = 1_000;
/** Changes written per read of the feed. */
const BATCH = 500;

/**
 * The Server-Sent Event streams a service has open, so that a shutdown can end them all with a
 * reconnect hint instead of cutting them.
 *
 * @example
 * const streams = new EventStreams();
 * const app = createServiceApp({ runs, board, registry, feed, auth, streams });
 * process.once('SIGTERM', () => streams.closeAll());
 */
export class EventStreams {
  readonly #stopping = new AbortController();

  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  /** Ends every stream: each sends `retry` with {@link RECONNECT_HINT_MS} and closes. */
  closeAll(): void {
    this.#stopping.abort();
  }

  /**
   * Streams the feed's changes (of one run, or all) as SSE, beginning behind `after` (the
   * client's `Last-Event-ID`), with each change's id as the event id, so a client that
   * reconnects continues without losing or repeating one. `first` is the first batch, read
   * before the response starts so that a bad `Last-Event-ID` is still a 400.
   */
  stream(
    c: Context,
    feed: RunChangeFeed,
    query: { readonly runId?: string; readonly after: string | undefined },
    first: readonly RunChange[],
  ): Response {
    return streamSSE(c, async (stream) => {
      const ended = new AbortController();
      stream.onAbort(() => ended.abort());
      const stop = (): void => ended.abort();
      this.#stopping.signal.addEventListener('abort', stop, { once: true });
      try {
        let after = await send(stream, first, query.after);
        while (!ended.signal.aborted) {
          const changes = await feed.read({
            ...(query.runId === undefined ? {} : { runId: query.runId }),
            ...(after === undefined ? {} : { after }),
            limit: BATCH,
          });
          after = await send(stream, changes, after);
          if (changes.length > 0) continue;
          const before = Date.now();
          await feed.wait({ timeoutMs: KEEP_ALIVE_MS, signal: ended.signal });
          if (Date.now() - before >= KEEP_ALIVE_MS) await stream.write(': keep-alive\n\n');
        }
        if (this.#stopping.signal.aborted && !stream.aborted) {
          await stream.write(`retry: ${RECONNECT_HINT_MS}\n: the service is stopping\n\n`);
        }
      } finally {
        this.#stopping.signal.removeEventListener('abort', stop);
      }
    });
  }
}

async function send(
  stream: SSEStreamingApi,
  changes: readonly RunChange[],
  after: string | undefined,
): Promise<string | undefined> {
  let last = after;
  for (const change of changes) {
    await stream.writeSSE({
      id: change.id,
      event: change.atom === null ? 'run' : 'atom',
      data: JSON.stringify(change),
    });
    last = change.id;
  }
  return last;
}
