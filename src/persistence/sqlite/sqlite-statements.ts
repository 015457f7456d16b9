import type Database from 'better-sqlite3';
import { FENCED_LEASE_EXPIRY } from '../ports.ts';

/** The prepared statements of the SQLite backend, compiled once per connection. */
export interface SqliteStatements {
  readonly insertBook: Database.Statement;
  readonly insertFlow: Database.Statement;
  readonly selectFlow: Database.Statement;
  readonly selectAtoms: Database.Statement;
  readonly selectAtomState: Database.Statement;
  readonly selectHolder: Database.Statement;
  readonly updateFlow: Database.Statement;
  /** For states an atom may be created in (PENDING, RUNNING, IGNORE). */
  readonly upsertAtom: Database.Statement;
  /** For the other states: only an existing record may move there. */
  readonly updateAtom: Database.Statement;
  /** A plain lease: only on a run no job carries, when nobody holds it or it expired. */
  readonly acquireLease: Database.Statement;
  /** A lease fenced by a job claim's token. */
  readonly acquireFencedLease: Database.Statement;
  readonly renewLease: Database.Statement;
  readonly releaseLease: Database.Statement;
  readonly listBooks: Database.Statement;
  /** Deletes a run no unexpired lease holds and no unfinished job carries. */
  readonly deleteFlow: Database.Statement;
  readonly deleteAtoms: Database.Statement;
  /** A statement built at run time (listing filters), prepared once per distinct text. */
  cached(sql: string): Database.Statement;
}

// The fence: a write lands only while the writer's lease is the run's current one.
const FENCE = 'lease_token = :token AND lease_owner = :owner';
// A run whose lease expires at this marker is carried by a job; the marker outlives release.
const CARRIED = `lease_expires_at = ${FENCED_LEASE_EXPIRY}`;

export function sqliteStatements(db: Database.Database): SqliteStatements {
  const cache = new Map<string, Database.Statement>();
  return {
    insertBook: db.prepare(
      'INSERT INTO taskflow_logbooks (id, created_at, record) VALUES (:id, :createdAt, :record) ON CONFLICT (id) DO NOTHING',
    ),
    insertFlow: db.prepare(
      `INSERT INTO taskflow_flows (id, logbook_id, state, created_at, record)
       VALUES (:id, :logbookId, :state, :createdAt, :record) ON CONFLICT (id) DO NOTHING`,
    ),
    selectFlow: db.prepare('SELECT id, created_at, record FROM taskflow_flows WHERE id = :id'),
    selectAtoms: db.prepare(
      'SELECT name, record FROM taskflow_atoms WHERE flow_id = :flowId ORDER BY seq',
    ),
    selectAtomState: db.prepare(
      'SELECT state FROM taskflow_atoms WHERE flow_id = :flowId AND name = :name',
    ),
    selectHolder: db.prepare(
      'SELECT lease_owner, lease_token, lease_expires_at FROM taskflow_flows WHERE id = :id',
    ),
    updateFlow: db.prepare(
      `UPDATE taskflow_flows SET logbook_id = :logbookId, state = :state, record = :record
       WHERE id = :id AND ${FENCE}`,
    ),
    // Atom writes run inside a batch transaction that checks the fence once first (taken with
    // the write lock, so no other process can move the lease before it commits); each
    // statement then applies only the transition rule.
    upsertAtom: db.prepare(
      `INSERT INTO taskflow_atoms (flow_id, name, state, record) VALUES (:flowId, :name, :state, :record)
       ON CONFLICT (flow_id, name) DO UPDATE SET state = excluded.state, record = excluded.record
        WHERE instr(:from, ',' || taskflow_atoms.state || ',') > 0`,
    ),
    updateAtom: db.prepare(
      `UPDATE taskflow_atoms SET state = :state, record = :record
        WHERE flow_id = :flowId AND name = :name AND instr(:from, ',' || state || ',') > 0`,
    ),
    acquireLease: db.prepare(
      `UPDATE taskflow_flows
          SET lease_owner = :owner, lease_token = lease_token + 1, lease_expires_at = :expiresAt
        WHERE id = :id AND NOT ${CARRIED} AND (lease_owner IS NULL OR lease_expires_at <= :now)
        RETURNING lease_owner, lease_token, lease_expires_at`,
    ),
    acquireFencedLease: db.prepare(
      `UPDATE taskflow_flows
          SET lease_owner = :owner, lease_token = :fence, lease_expires_at = ${FENCED_LEASE_EXPIRY}
        WHERE id = :id AND (lease_token < :fence OR (lease_token = :fence AND lease_owner = :owner))
        RETURNING lease_owner, lease_token, lease_expires_at`,
    ),
    // A fenced lease is never renewed: its expiry is the job-carried marker.
    renewLease: db.prepare(
      `UPDATE taskflow_flows SET lease_expires_at = :expiresAt
        WHERE id = :id AND ${FENCE} AND NOT ${CARRIED}
        RETURNING lease_owner, lease_token, lease_expires_at`,
    ),
    releaseLease: db.prepare(
      `UPDATE taskflow_flows
          SET lease_owner = NULL, lease_expires_at = CASE WHEN ${CARRIED} THEN lease_expires_at ELSE 0 END
        WHERE id = :id AND ${FENCE}`,
    ),
    listBooks: db.prepare(
      `SELECT id, created_at, record FROM taskflow_logbooks
        WHERE (:afterId IS NULL OR created_at > :afterAt OR (created_at = :afterAt AND id > :afterId))
        ORDER BY created_at, id LIMIT :limit`,
    ),
    deleteFlow: db.prepare(
      `DELETE FROM taskflow_flows
        WHERE id = :id AND NOT (lease_owner IS NOT NULL AND lease_expires_at > :now)
          AND NOT (${CARRIED} AND state NOT IN ('SUCCESS', 'REVERTED'))
          AND (:states IS NULL OR instr(:states, ',' || state || ',') > 0)`,
    ),
    deleteAtoms: db.prepare('DELETE FROM taskflow_atoms WHERE flow_id = :flowId'),
    cached(sql: string): Database.Statement {
      let statement = cache.get(sql);
      if (statement === undefined) {
        statement = db.prepare(sql);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}
