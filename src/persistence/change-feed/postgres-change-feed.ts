import type pg from 'pg';
import { migratePostgresSchema } from '../../drivers/postgres/postgres-migrations.ts';
import {
  connectPostgres,
  quoteIdentifier,
  schemaName,
} from '../../drivers/postgres/postgres-pool.ts';
import { StorageError } from '../storage-error.ts';
import {
  type ChangeQuery,
  changeLimit,
  PRUNE_BATCH,
  pause,
  type RunChange,
  type RunChangeFeed,
} from './change-feed.ts';

const VERSION_TABLE = 'taskflow_change_feed_version';
const CHANNEL = 'taskflow_run_changes';

/**
 * How long a wait lasts without a notification. Notifications wake readers at once; this only
 * bounds the wait for changes that became readable without one (a row held back behind an
 * older transaction that then rolled back) or while the LISTEN connection is being remade.
 */
const FALLBACK_POLL_MS = 1000;

interface ChangeRow {
  readonly seq: string;
  readonly xid: string;
  readonly flow_id: string;
  readonly atom: string | null;
  readonly state: string;
  readonly intention: string | null;
  readonly progress: number | null;
  readonly at: string;
}

/**
 * The change feed of a PostgreSQL run store: a trigger (installed here, once per schema)
 * records every change with its transaction id and NOTIFYs the run's id on commit; readers
 * LISTEN to wake up, then read the rows of finished transactions in (xid, seq) order, so no
 * change is ever delivered behind one already passed. The schema must hold a run store.
 */
export async function openPostgresChangeFeed(options: {
  readonly url: string;
  readonly schema?: string;
}): Promise<RunChangeFeed> {
  const schema = schemaName(
    options.schema,
    (message) => new StorageError('INVALID_ARGUMENT', message),
  );
  const { pool } = await connectPostgres(
    { url: options.url, maxConnections: 3 },
    (made) =>
      migratePostgresSchema(made, schema, {
        directory: new URL('./migrations/postgres/', import.meta.url),
        versionTable: VERSION_TABLE,
        tables: ['taskflow_run_changes'],
        lockPrefix: 'taskflow-ts-change-feed:',
        refuse: {
          unversioned: (ours) =>
            new StorageError(
              'SCHEMA_MISMATCH',
              `PostgreSQL schema "${schema}" has table ${ours.join(', ')} but no ${VERSION_TABLE}; nothing was changed. Use another schema or drop the table if it is disposable.`,
            ),
          newer: (version, latest) =>
            new StorageError(
              'SCHEMA_MISMATCH',
              `The change feed in PostgreSQL schema "${schema}" is at version ${version}, newer than the ${latest} this version of the library knows; upgrade the library.`,
            ),
        },
      }),
    (error) => error,
  );
  const table = `${quoteIdentifier(schema)}.taskflow_run_changes`;
  const listener = new Listener(pool);
  const columns = 'seq, xid::text AS xid, flow_id, atom, state, intention, progress, at';
  const finished = 'xid < pg_snapshot_xmin(pg_current_snapshot())';
  return {
    async read(query: ChangeQuery = {}) {
      const [xid, seq] = positionOf(query.after);
      const limit = changeLimit(query.limit);
      const run = query.runId === undefined ? '' : 'AND flow_id = $4';
      const { rows } = await pool.query<ChangeRow>(
        `SELECT ${columns} FROM ${table} WHERE (xid, seq) > ($1::xid8, $2::bigint) AND ${finished} ${run} ORDER BY xid, seq LIMIT $3`,
        query.runId === undefined ? [xid, seq, limit] : [xid, seq, limit, query.runId],
      );
      return rows.map(toChange);
    },
    async head() {
      const { rows } = await pool.query<ChangeRow>(
        `SELECT ${columns} FROM ${table} WHERE ${finished} ORDER BY xid DESC, seq DESC LIMIT 1`,
      );
      return rows[0] === undefined ? undefined : toChange(rows[0]).id;
    },
    async wait({ timeoutMs, signal }) {
      await listener.listening();
      // The pause is ended as soon as either wins, so a notification leaves no timer or abort
      // listener behind (a busy stream waits many times a second).
      const woken = new AbortController();
      const stop = (): void => woken.abort();
      signal?.addEventListener('abort', stop, { once: true });
      try {
        const pausing = pause(Math.min(timeoutMs, FALLBACK_POLL_MS), woken.signal);
        await Promise.race([listener.next(), pausing]);
      } finally {
        signal?.removeEventListener('abort', stop);
        woken.abort();
      }
    },
    async prune({ before, limit = PRUNE_BATCH }) {
      const { rowCount } = await pool.query(
        `DELETE FROM ${table} WHERE seq IN (SELECT seq FROM ${table} WHERE at < $1 ORDER BY seq LIMIT $2)`,
        [before, limit],
      );
      return rowCount ?? 0;
    },
    async close() {
      await listener.close();
      await pool.end().catch(() => undefined);
    },
  };
}

/** One LISTEN connection shared by every waiter; remade on the next wait after it fails. */
class Listener {
  readonly #pool: pg.Pool;
  #client: Promise<pg.PoolClient | undefined> | undefined;
  #waiters: (() => void)[] = [];
  #closed = false;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Resolves once a LISTEN connection is up, or when it cannot be made now. */
  async listening(): Promise<void> {
    if (this.#closed) return;
    this.#client ??= this.#connect();
    await this.#client;
  }

  /** Resolves at the next notification. */
  next(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wakeAll();
    const client = await this.#client;
    client?.release(true);
  }

  async #connect(): Promise<pg.PoolClient | undefined> {
    try {
      const client = await this.#pool.connect();
      client.on('notification', () => this.#wakeAll());
      client.on('error', () => {
        this.#client = undefined;
        client.release(true);
        this.#wakeAll();
      });
      await client.query(`LISTEN ${CHANNEL}`);
      return client;
    } catch {
      // The server is away: waits fall back to polling until a later one reconnects.
      this.#client = undefined;
      return undefined;
    }
  }

  #wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

function toChange(row: ChangeRow): RunChange {
  return {
    id: `${row.xid}-${row.seq}`,
    runId: row.flow_id,
    atom: row.atom,
    state: row.state,
    intention: row.intention,
    progress: row.progress === null ? null : Number(row.progress),
    at: Number(row.at),
  };
}

function positionOf(after: string | undefined): [string, string] {
  if (after === undefined) return ['0', '0'];
  const match = /^(\d{1,20})-(\d{1,19})$/.exec(after);
  if (match === null) {
    throw new StorageError(
      'INVALID_ARGUMENT',
      `Change id ${JSON.stringify(after)} is not one this feed made; pass back the id of a change it returned.`,
    );
  }
  return [match[1] as string, match[2] as string];
}
