import type Database from 'better-sqlite3';
import { TaskFlowError } from '../../core/errors.ts';
import { migrateSqliteComponent } from '../../drivers/sqlite/sqlite-component-schema.ts';
import { openSqliteFile } from '../../drivers/sqlite/sqlite-file.ts';
import {
  fromWorkerRow,
  newWorkerTask,
  offerKey,
  WORKER_TASK_COLUMNS,
  type WorkerTask,
  type WorkerTaskQueue,
  type WorkerTaskRow,
} from './worker-task-queue.ts';

const VERSION_TABLE = 'taskflow_worker_task_version';
const TABLE = 'taskflow_worker_tasks';

/**
 * Worker tasks in the run store's SQLite file, in their own table with their own migrations.
 * Every change is one IMMEDIATE transaction, so processes sharing the file claim each task once.
 */
export function openSqliteWorkerTaskQueue(
  path: string,
  options: { readonly now?: () => number } = {},
): WorkerTaskQueue {
  const now = options.now ?? Date.now;
  const db = openSqliteFile({
    path,
    synchronous: 'NORMAL',
    prepare: (opened) => prepare(opened, path),
    toError: (error) => error,
  });
  const select = `SELECT ${WORKER_TASK_COLUMNS} FROM ${TABLE}`;
  const byKey = db.prepare(`${select} WHERE key = ?`);
  const byId = db.prepare(`${select} WHERE id = ?`);
  const insert = db.prepare(
    `INSERT INTO ${TABLE} (id, key, type, kind, run_id, atom, idempotency_key, round, inputs, execute_result, state, created_at, updated_at)
     VALUES (@id, @key, @type, @kind, @runId, @atom, @idempotencyKey, @round, @inputs, @executeResult, 'QUEUED', @at, @at)`,
  );
  const requeue = db.prepare(
    `UPDATE ${TABLE} SET state = 'QUEUED', round = ?, inputs = ?, execute_result = ?, result = NULL,
       failure = NULL, worker = NULL, lease_expires_at = NULL, updated_at = ?
     WHERE key = ? AND state IN ('COMPLETED', 'FAILED') AND round < ?`,
  );
  const claim = db.prepare(
    `UPDATE ${TABLE} SET state = 'CLAIMED', attempt = attempt + 1, token = token + 1, worker = ?,
       lease_expires_at = ?, updated_at = ?
     WHERE id = (SELECT id FROM ${TABLE}
       WHERE type IN (SELECT value FROM json_each(?))
         AND (state = 'QUEUED' OR (state = 'CLAIMED' AND lease_expires_at < ?))
       ORDER BY rowid LIMIT 1)
     RETURNING ${WORKER_TASK_COLUMNS}`,
  );
  const heartbeat = db.prepare(
    `UPDATE ${TABLE} SET lease_expires_at = ?, updated_at = ?
     WHERE id = ? AND token = ? AND state = 'CLAIMED' RETURNING ${WORKER_TASK_COLUMNS}`,
  );
  const settle = db.prepare(
    `UPDATE ${TABLE} SET state = ?, result = ?, failure = ?, lease_expires_at = NULL, updated_at = ?
     WHERE id = ? AND token = ? AND state = 'CLAIMED'`,
  );
  const read = (row: unknown): WorkerTask | undefined =>
    row === undefined ? undefined : fromWorkerRow(row as WorkerTaskRow);
  const offer = db.transaction((task: WorkerTask): WorkerTask => {
    const key = offerKey(task);
    const executeResult =
      task.executeResult === undefined ? null : JSON.stringify(task.executeResult);
    const inputs = JSON.stringify(task.inputs);
    if (byKey.get(key) === undefined) {
      insert.run({ ...task, key, inputs, executeResult, at: task.createdAt });
    } else {
      requeue.run(task.round, inputs, executeResult, task.createdAt, key, task.round);
    }
    return read(byKey.get(key)) as WorkerTask;
  });
  return {
    async offer(request) {
      return offer.immediate(newWorkerTask(request, now()));
    },
    async claim({ types, worker, leaseMs }) {
      const at = now();
      return read(claim.get(worker, at + leaseMs, at, JSON.stringify(types), at));
    },
    async heartbeat(id, token, leaseMs) {
      const at = now();
      return read(heartbeat.get(at + leaseMs, at, id, token));
    },
    async settle(id, token, outcome) {
      const done = 'result' in outcome;
      const changed = settle.run(
        done ? 'COMPLETED' : 'FAILED',
        done ? JSON.stringify(outcome.result) : null,
        done ? null : JSON.stringify(outcome.failure),
        now(),
        id,
        token,
      ).changes;
      if (changed > 0) return 'settled';
      return byId.get(id) === undefined ? 'missing' : 'stale';
    },
    async get(id) {
      return read(byId.get(id));
    },
    async close() {
      if (db.open) db.close();
    },
  };
}

function prepare(db: Database.Database, path: string): void {
  migrateSqliteComponent(db, {
    directory: new URL('./migrations/sqlite/', import.meta.url),
    versionTable: VERSION_TABLE,
    foreign: () =>
      new TaskFlowError(
        'SCHEMA_MISMATCH',
        `SQLite file ${path} is not a taskflow run store, so it cannot hold worker tasks; pass the URL of the run store (--runs), which is created when the service first opens it.`,
      ),
    newer: (version, latest) =>
      new TaskFlowError(
        'SCHEMA_MISMATCH',
        `The worker tasks in ${path} are at schema version ${version}, newer than the ${latest} this version of the library knows; upgrade the library.`,
      ),
  });
}
