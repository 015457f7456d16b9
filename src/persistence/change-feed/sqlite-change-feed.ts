import type Database from 'better-sqlite3';
import { migrateSqliteComponent } from '../../drivers/sqlite/sqlite-component-schema.ts';
import { openSqliteFile } from '../../drivers/sqlite/sqlite-file.ts';
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

/** How often {@link RunChangeFeed.wait} looks again when nothing notifies: SQLite polls. */
const DEFAULT_POLL_MS = 100;

interface ChangeRow {
  readonly seq: number;
  readonly flow_id: string;
  readonly atom: string | null;
  readonly state: string;
  readonly intention: string | null;
  readonly progress: number | null;
  readonly at: number;
}

/**
 * The change feed of a SQLite run store: triggers (installed here, once) record every change
 * in the same transaction, with a sequence number that grows in commit order; readers poll it.
 * The file must already be a run store (open the run store first).
 */
export function openSqliteChangeFeed(options: {
  readonly path: string;
  readonly pollMs?: number;
}): RunChangeFeed {
  const db = openSqliteFile({
    path: options.path,
    synchronous: 'NORMAL',
    prepare: (opened) => prepare(opened, options.path),
    toError: (error) => error,
  });
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const columns = 'seq, flow_id, atom, state, intention, progress, at';
  const all = db.prepare(
    `SELECT ${columns} FROM taskflow_run_changes WHERE seq > ? ORDER BY seq LIMIT ?`,
  );
  const ofRun = db.prepare(
    `SELECT ${columns} FROM taskflow_run_changes WHERE flow_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
  );
  const newest = db.prepare('SELECT MAX(seq) AS seq FROM taskflow_run_changes');
  // The oldest rows first, by primary key: the scan stops after `limit` old enough ones.
  const prune = db.prepare(
    'DELETE FROM taskflow_run_changes WHERE seq IN (SELECT seq FROM taskflow_run_changes WHERE at < ? ORDER BY seq LIMIT ?)',
  );
  return {
    async read(query: ChangeQuery = {}) {
      const after = positionOf(query.after);
      const limit = changeLimit(query.limit);
      const rows = (
        query.runId === undefined ? all.all(after, limit) : ofRun.all(query.runId, after, limit)
      ) as ChangeRow[];
      return rows.map(toChange);
    },
    async head() {
      const row = newest.get() as { seq: number | null };
      return row.seq === null ? undefined : String(row.seq);
    },
    wait: ({ timeoutMs, signal }) => pause(Math.min(timeoutMs, pollMs), signal),
    async prune({ before, limit = PRUNE_BATCH }) {
      return prune.run(before, limit).changes;
    },
    async close() {
      if (db.open) db.close();
    },
  };
}

function toChange(row: ChangeRow): RunChange {
  return {
    id: String(row.seq),
    runId: row.flow_id,
    atom: row.atom,
    state: row.state,
    intention: row.intention,
    progress: row.progress,
    at: row.at,
  };
}

function positionOf(after: string | undefined): number {
  if (after === undefined) return 0;
  if (!/^\d{1,15}$/.test(after)) {
    throw new StorageError(
      'INVALID_ARGUMENT',
      `Change id ${JSON.stringify(after)} is not one this feed made; pass back the id of a change it returned.`,
    );
  }
  return Number(after);
}

function prepare(db: Database.Database, path: string): void {
  migrateSqliteComponent(db, {
    directory: new URL('./migrations/sqlite/', import.meta.url),
    versionTable: VERSION_TABLE,
    foreign: () =>
      new StorageError(
        'SCHEMA_MISMATCH',
        `SQLite file ${path} is not a taskflow run store, so it has no runs to follow; open the run store at this path first (it creates the file).`,
      ),
    newer: (version, latest) =>
      new StorageError(
        'SCHEMA_MISMATCH',
        `The change feed in ${path} is at schema version ${version}, newer than the ${latest} this version of the library knows; upgrade the library.`,
      ),
  });
}
