import type pg from 'pg';
import { guardPoolClients } from '../../drivers/postgres/postgres-pool.ts';
import { parseJobEvent } from '../job-row.ts';
import type { JobEvent } from '../model.ts';
import { toPostgresJobBoardError } from './postgres-job-errors.ts';

const RECONNECT_MS = 500;

/**
 * LISTENs on the board's channel over one connection taken from the pool on first use and
 * kept until close (so later subscribers start at once). A dropped connection is replaced in
 * the background; events sent meanwhile are lost, which waiters cover by re-reading.
 */
export class PostgresJobListener {
  readonly #pool: pg.Pool;
  readonly #channel: string;
  readonly #schema: string;
  readonly #listeners = new Set<(event: JobEvent) => void>();
  #client: pg.PoolClient | undefined;
  #connecting: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: { pool: pg.Pool; channel: string; schema: string }) {
    this.#pool = options.pool;
    this.#channel = options.channel;
    this.#schema = options.schema;
    // The listener added after `connect()` resolves comes a microtask late; this one is there
    // from the hand-over (a no-op when the pool came through connectPostgres).
    guardPoolClients(options.pool);
  }

  /** Adds a listener; resolves once LISTEN is in effect, with the function that removes it. */
  async add(listener: (event: JobEvent) => void): Promise<() => void> {
    const wrapped = (event: JobEvent): void => listener(event);
    this.#listeners.add(wrapped);
    try {
      await this.#ensure();
    } catch (error) {
      this.#listeners.delete(wrapped);
      throw toPostgresJobBoardError(error, this.#schema);
    }
    return () => {
      this.#listeners.delete(wrapped);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#listeners.clear();
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    this.#client = undefined;
    // Destroyed, not returned: a pooled connection must not keep our LISTEN and handlers.
    client?.release(true);
  }

  #ensure(): Promise<void> {
    if (this.#client !== undefined) return Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const client = await this.#pool.connect();
    client.on('notification', (message) => {
      if (message.channel !== this.#channel || message.payload === undefined) return;
      const event = parseJobEvent(message.payload);
      if (event === undefined) return;
      for (const listener of this.#listeners) listener(event);
    });
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    try {
      await client.query(`LISTEN "${this.#channel}"`);
    } catch (error) {
      client.release(true);
      throw error;
    }
    if (this.#closed) {
      client.release(true);
      return;
    }
    this.#client = client;
  }

  #lost(client: pg.PoolClient): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.release(true);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#ensure().catch(() => this.#scheduleReconnect());
    }, RECONNECT_MS);
  }
}
