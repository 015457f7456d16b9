import type { Redis } from 'ioredis';
import { TaskFlowError } from '../../core/errors.ts';
import { loadDriver } from '../load-driver.ts';

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
  /**
   * The ioredis client. Marked internal, so the published declarations never name an ioredis
   * type: `ioredis` is an optional peer, and a consumer's `tsc` without it must still pass.
   * @internal
   */
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
    const { Redis } = loadDriver<typeof import('ioredis')>('ioredis', 'redis:// URLs');
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

  /**
   * Connects and checks that the server answers and has the URL's database; on failure the
   * client is disconnected. ioredis reports a failed `SELECT` only as an 'error' event and
   * stays on database 0, so the database is selected again here, where a refusal is thrown.
   */
  async connect(): Promise<void> {
    try {
      await this.client.connect();
      await this.client.ping();
      await this.#selectDatabase();
    } catch (error) {
      this.client.disconnect();
      throw error;
    }
  }

  async #selectDatabase(): Promise<void> {
    const db = this.client.options.db ?? 0;
    if (db === 0) return;
    try {
      await this.client.select(db);
    } catch (error) {
      const limit = await this.#databaseLimit();
      throw new TaskFlowError(
        'INVALID_ARGUMENT',
        `Redis at ${this.address} refused database ${db} (${error instanceof Error ? error.message : String(error)}); ${limit}. Use a database number below the limit in the URL (redis://host:6379/0), or raise "databases" in the server's configuration.`,
        { cause: error },
      );
    }
  }

  /** "the server has N databases (0 to N-1)", or "the server's limit" when CONFIG is refused. */
  async #databaseLimit(): Promise<string> {
    try {
      const reply = (await this.client.config('GET', 'databases')) as unknown;
      const count = Array.isArray(reply) ? Number(reply[1]) : Number.NaN;
      if (Number.isInteger(count) && count > 0) {
        return `the server has ${count} databases (0 to ${count - 1})`;
      }
    } catch {
      // CONFIG is often disabled or renamed on managed servers.
    }
    return 'the number must be below the server\'s limit (its "databases" setting, 16 by default)';
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
