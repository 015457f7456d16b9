import { TaskFlowError } from '../../core/errors.ts';
import {
  migratePostgresSchema,
  schemaMismatchRefusals,
} from '../../drivers/postgres/postgres-migrations.ts';
import {
  connectPostgres,
  quoteIdentifier,
  schemaName,
} from '../../drivers/postgres/postgres-pool.ts';
import {
  fromWorkerRow,
  newWorkerTask,
  offerKey,
  WORKER_TASK_COLUMNS,
  type WorkerTaskQueue,
  type WorkerTaskRow,
} from './worker-task-queue.ts';

const VERSION_TABLE = 'taskflow_worker_task_version';
// Leases are measured with the server's clock, so workers and engines on several machines agree.
const NOW = `floor(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/**
 * Worker tasks in the run store's PostgreSQL schema, in their own table with their own
 * migrations; a claim takes the oldest ready task with `SKIP LOCKED`.
 */
export async function openPostgresWorkerTaskQueue(options: {
  readonly url: string;
  readonly schema?: string;
}): Promise<WorkerTaskQueue> {
  const schema = schemaName(
    options.schema,
    (message) => new TaskFlowError('INVALID_ARGUMENT', message),
  );
  const { pool } = await connectPostgres(
    { url: options.url, maxConnections: 4 },
    (made) =>
      migratePostgresSchema(made, schema, {
        directory: new URL('./migrations/postgres/', import.meta.url),
        versionTable: VERSION_TABLE,
        tables: ['taskflow_worker_tasks'],
        lockPrefix: 'taskflow-ts-worker-tasks:',
        refuse: schemaMismatchRefusals(schema, VERSION_TABLE, 'The worker tasks'),
      }),
    (error) => error,
  );
  const table = `${quoteIdentifier(schema)}.taskflow_worker_tasks`;
  const one = async (sql: string, values: unknown[]) => {
    const { rows } = await pool.query<WorkerTaskRow>(sql, values);
    return rows[0] === undefined ? undefined : fromWorkerRow(rows[0]);
  };
  return {
    async offer(request) {
      const task = newWorkerTask(request, 0);
      const executeResult =
        task.executeResult === undefined ? null : JSON.stringify(task.executeResult);
      const changed = await one(
        `INSERT INTO ${table} AS t (id, key, type, kind, run_id, atom, idempotency_key, round, inputs, execute_result, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'QUEUED', ${NOW}, ${NOW})
         ON CONFLICT (key) DO UPDATE SET state = 'QUEUED', round = EXCLUDED.round,
           inputs = EXCLUDED.inputs, execute_result = EXCLUDED.execute_result, result = NULL,
           failure = NULL, worker = NULL, lease_expires_at = NULL, updated_at = ${NOW}
           WHERE t.state IN ('COMPLETED', 'FAILED') AND t.round < EXCLUDED.round
         RETURNING ${WORKER_TASK_COLUMNS}`,
        [
          task.id,
          offerKey(task),
          task.type,
          task.kind,
          task.runId,
          task.atom,
          task.idempotencyKey,
          task.round,
          JSON.stringify(task.inputs),
          executeResult,
        ],
      );
      if (changed !== undefined) return changed;
      const known = await one(`SELECT ${WORKER_TASK_COLUMNS} FROM ${table} WHERE key = $1`, [
        offerKey(task),
      ]);
      if (known === undefined) {
        throw new TaskFlowError(
          'WORKER_TASK_MISSING',
          `Worker task ${offerKey(task)} was offered but cannot be read back; is another process deleting rows of taskflow_worker_tasks?`,
          { retryable: true },
        );
      }
      return known;
    },
    async claim({ types, worker, leaseMs }) {
      return one(
        `UPDATE ${table} SET state = 'CLAIMED', attempt = attempt + 1, token = token + 1,
           worker = $2, lease_expires_at = ${NOW} + $3, updated_at = ${NOW}
         WHERE id = (SELECT id FROM ${table}
           WHERE type = ANY($1::text[])
             AND (state = 'QUEUED' OR (state = 'CLAIMED' AND lease_expires_at < ${NOW}))
           ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING ${WORKER_TASK_COLUMNS}`,
        [types, worker, leaseMs],
      );
    },
    async heartbeat(id, token, leaseMs) {
      return one(
        `UPDATE ${table} SET lease_expires_at = ${NOW} + $3, updated_at = ${NOW}
         WHERE id = $1 AND token = $2 AND state = 'CLAIMED' RETURNING ${WORKER_TASK_COLUMNS}`,
        [id, token, leaseMs],
      );
    },
    async settle(id, token, outcome) {
      const done = 'result' in outcome;
      const { rowCount } = await pool.query(
        `UPDATE ${table} SET state = $3, result = $4, failure = $5, lease_expires_at = NULL,
           updated_at = ${NOW}
         WHERE id = $1 AND token = $2 AND state = 'CLAIMED'`,
        [
          id,
          token,
          done ? 'COMPLETED' : 'FAILED',
          done ? JSON.stringify(outcome.result) : null,
          done ? null : JSON.stringify(outcome.failure),
        ],
      );
      if ((rowCount ?? 0) > 0) return 'settled';
      const known = await pool.query(`SELECT 1 FROM ${table} WHERE id = $1`, [id]);
      return known.rowCount === 0 ? 'missing' : 'stale';
    },
    async get(id) {
      return one(`SELECT ${WORKER_TASK_COLUMNS} FROM ${table} WHERE id = $1`, [id]);
    },
    async close() {
      await pool.end();
    },
  };
}
