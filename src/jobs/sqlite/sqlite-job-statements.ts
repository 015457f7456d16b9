import type Database from 'better-sqlite3';

const HELD = "id = :id AND state = 'CLAIMED' AND token = :token AND owner = :owner";

// Every write that checks a claim does so in its own WHERE clause, and SQLite's write lock
// makes each statement atomic.
const SQL = {
  insertJob: `INSERT INTO taskflow_jobs (id, name, flow_name, flow_version, store, priority, idempotency_key, created_at, updated_at, state)
       VALUES (:id, :name, :flowName, :flowVersion, :store, :priority, :idempotencyKey, :createdAt, :updatedAt, :state)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
  selectJob: 'SELECT * FROM taskflow_jobs WHERE id = :id',
  selectByKey: 'SELECT * FROM taskflow_jobs WHERE idempotency_key = :key',
  // The best UNCLAIMED job and the best expired claim each come from an index; the better
  // of the two is claimed. Expired claims count as a failed attempt.
  claim: `UPDATE taskflow_jobs
       SET state = 'CLAIMED', owner = :owner, token = token + 1, lease_expires_at = :expiresAt,
           updated_at = :now, attempts = attempts + (state = 'CLAIMED')
       WHERE id = (
         SELECT id FROM (
           SELECT * FROM (SELECT id, priority, created_at FROM taskflow_jobs WHERE state = 'UNCLAIMED'
                          ORDER BY priority DESC, created_at, id LIMIT 1)
           UNION ALL
           SELECT * FROM (SELECT id, priority, created_at FROM taskflow_jobs
                          WHERE state = 'CLAIMED' AND lease_expires_at <= :now
                          ORDER BY priority DESC, created_at, id LIMIT 1)
         ) ORDER BY priority DESC, created_at, id LIMIT 1)
       RETURNING *`,
  extend: `UPDATE taskflow_jobs SET lease_expires_at = :expiresAt, updated_at = :now WHERE ${HELD} RETURNING *`,
  consume: `UPDATE taskflow_jobs SET state = 'COMPLETE', lease_expires_at = NULL, outcome = :outcome, request = NULL, updated_at = :now
       WHERE ${HELD} RETURNING *`,
  abandon: `UPDATE taskflow_jobs
       SET attempts = attempts + :increment, lease_expires_at = NULL, updated_at = :now,
           state = CASE WHEN :increment = 1 AND attempts + 1 >= :maxAttempts THEN 'DEAD_LETTER' ELSE 'UNCLAIMED' END,
           dead_letter_reason = CASE WHEN :increment = 1 AND attempts + 1 >= :maxAttempts THEN :reason ELSE NULL END
       WHERE ${HELD} RETURNING *`,
  trash: `DELETE FROM taskflow_jobs
       WHERE id = :id AND NOT (state = 'CLAIMED' AND lease_expires_at > :now) RETURNING *`,
  deleteFinished: `DELETE FROM taskflow_jobs
       WHERE id = :id AND instr(:states, ',' || state || ',') > 0 AND updated_at < :before
       RETURNING *`,
  redrive: `UPDATE taskflow_jobs
       SET state = 'UNCLAIMED', attempts = 0, lease_expires_at = NULL, dead_letter_reason = NULL,
           updated_at = :now
       WHERE id = :id AND state = 'DEAD_LETTER' RETURNING *`,
  // A COMPLETE job is reopened by the request; the caller lists the states it may be set in.
  request: `UPDATE taskflow_jobs
       SET request = :request, updated_at = :now,
           attempts = CASE WHEN state = 'COMPLETE' THEN 0 ELSE attempts END,
           outcome = CASE WHEN state = 'COMPLETE' THEN NULL ELSE outcome END,
           state = CASE WHEN state = 'COMPLETE' THEN 'UNCLAIMED' ELSE state END
       WHERE id = :id AND request IS NULL AND instr(:states, ',' || state || ',') > 0 RETURNING *`,
  insertEvent: `INSERT INTO taskflow_job_events (type, job_id, job_name, state, at)
       VALUES (:type, :jobId, :jobName, :state, :at)`,
  // Keeps the log short; pollers only ever need the last few moments of it.
  pruneEvents:
    'DELETE FROM taskflow_job_events WHERE seq <= (SELECT max(seq) FROM taskflow_job_events) - 10000',
  earliestLease: "SELECT min(lease_expires_at) AS at FROM taskflow_jobs WHERE state = 'CLAIMED'",
  lastEvent: 'SELECT coalesce(max(seq), 0) AS seq FROM taskflow_job_events',
  eventsAfter:
    'SELECT seq, type, job_id, job_name, state, at FROM taskflow_job_events WHERE seq > :seq ORDER BY seq LIMIT 1000',
  upsertConductor: `INSERT INTO taskflow_conductors (name, last_seen_at, expires_at, meta) VALUES (:name, :lastSeenAt, :expiresAt, :meta)
       ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at, expires_at = excluded.expires_at, meta = excluded.meta`,
  deleteConductor: 'DELETE FROM taskflow_conductors WHERE name = :name',
  liveConductors: 'SELECT * FROM taskflow_conductors WHERE expires_at > :now ORDER BY name',
} as const;

/** The prepared statements of the SQLite jobboard, compiled once per connection. */
export type SqliteJobStatements = { readonly [K in keyof typeof SQL]: Database.Statement };

export function sqliteJobStatements(db: Database.Database): SqliteJobStatements {
  const entries = Object.entries(SQL).map(([name, text]) => [name, db.prepare(text)]);
  return Object.fromEntries(entries) as SqliteJobStatements;
}
