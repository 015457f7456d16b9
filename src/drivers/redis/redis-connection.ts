import { Redis } from 'ioredis';

/**
 * The ioredis options every connection here uses, and why:
 * - `enableOfflineQueue: false`: a command issued while the connection is down fails at once
 *   instead of waiting in a client-side queue. A queued command runs whenever the server comes
 *   back, long after its caller decided to send it, and the caller can neither cancel it nor
 *   know whether it ran; failing fast lets the caller back off and decide again.
 * - `maxRetriesPerRequest: 0` and `autoResendUnfulfilledCommands: false`: a command in flight
 *   when the connection drops fails with it instead of being sent again after the reconnect,
 *   for the same reason.
 * - `lazyConnect`: the opener awaits the first connection itself, to report its failure.
 * The client still reconnects in the background (ioredis' default `retryStrategy`).
 */
const OPTIONS = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
} as const;

/**
 * One ioredis client with an 'error' listener that keeps what went wrong instead of dropping
 * it: without a listener a connection error would reach the console (or crash a process that
 * treats unhandled errors as fatal), and with an empty one, a later command would fail with
 * only "Connection is closed." or "Stream isn't writeable". {@link detail} adds the last
 * connection error and {@link address} names the server, for the message of whatever fails
 * next.
 *
 * @example
 * const connection = RedisConnection.create('redis://127.0.0.1:6379/0');
 * try {
 *   await connection.connect();
 * } catch (error) {
 *   throw new Error(`Redis at ${connection.address}: ${connection.detail(error)}`);
 * }
 */
export class RedisConnection {
  readonly client: Redis;
  /** `host:port`, or the socket path, for messages. */
  readonly address: string;
  #lastError: Error | undefined;

  private constructor(client: Redis) {
    this.client = client;
    const { host, port, path } = client.options;
    this.address = path ?? `${host ?? '127.0.0.1'}:${port ?? 6379}`;
    client.on('error', (error: Error) => {
      this.#lastError = error;
    });
    client.on('ready', () => {
      this.#lastError = undefined;
    });
  }

  /** A client for `redis://[user:password@]host:port/db` (or `rediss://`), not yet connected. */
  static create(url: string): RedisConnection {
    return new RedisConnection(new Redis(url, OPTIONS));
  }

  /** Another client to the same server and database, with its own record (e.g. for SUBSCRIBE). */
  duplicate(): RedisConnection {
    return new RedisConnection(this.client.duplicate(OPTIONS));
  }

  /** The last connection error since the client was last ready, if any. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** Connects and checks that the server answers; on failure the client is disconnected. */
  async connect(): Promise<void> {
    try {
      await this.client.connect();
      await this.client.ping();
    } catch (error) {
      this.client.disconnect();
      throw error;
    }
  }

  /**
   * What failed, with the last connection error when it says more (e.g. `connect
   * ECONNREFUSED 127.0.0.1:6379` behind "Stream isn't writeable").
   */
  detail(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    const last = this.#lastError?.message;
    const cause = last === undefined || last === message ? '' : `; last connection error: ${last}`;
    return `${message}${cause}`;
  }

  /** Closes the connection, politely when it is up. */
  async close(): Promise<void> {
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect());
    } else {
      this.client.disconnect();
    }
  }
}
