import { createHash } from 'node:crypto';
import { type NamedStatement, quoteIdentifier } from '../../drivers/postgres/postgres-pool.ts';
import { FENCED_LEASE_EXPIRY } from '../ports.ts';

/** The statements of the PostgreSQL backend, for tables in one schema. */
export interface PostgresStatements {
  readonly ensureFlow: NamedStatement;
  readonly selectFlow: NamedStatement;
  readonly loadRun: NamedStatement;
  readonly selectAtomState: NamedStatement;
  readonly selectHolder: NamedStatement;
  readonly updateFlow: NamedStatement;
  readonly upsertAtom: NamedStatement;
  /** A batch of atom writes through the `taskflow_save_atoms` function (migration 002). */
  readonly saveAtoms: NamedStatement;
  /** Creates, leases and reads a run through `taskflow_open_run` (migration 003). */
  readonly openRun: NamedStatement;
  /** Atoms, then the flow, then a release, through `taskflow_save_run` (migration 003). */
  readonly saveRun: NamedStatement;
  /** A plain lease: only on a run no job carries, when nobody holds it or it expired. */
  readonly acquireLease: NamedStatement;
  /** A lease fenced by a job claim's token. */
  readonly acquireFencedLease: NamedStatement;
  readonly renewLease: NamedStatement;
  readonly releaseLease: NamedStatement;
  readonly listBooks: NamedStatement;
  /** Deletes a run (atoms cascade) no unexpired lease holds and no unfinished job carries. */
  readonly deleteFlow: NamedStatement;
  /** Names a statement built at run time (listing filters). */
  named(text: string): NamedStatement;
}

/** Names derive from the text, so one pool may serve stores on several schemas. */
export function named(text: string): NamedStatement {
  return { name: `taskflow_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text };
}

// $1 = flow id, $2 = lease token, $3 = lease owner in every fenced statement.
const FENCE = 'lease_token = $2 AND lease_owner = $3';
// A run whose lease expires at this marker is carried by a job; the marker outlives release.
const CARRIED = `lease_expires_at = ${FENCED_LEASE_EXPIRY}`;
// The server's clock in epoch milliseconds, read when the statement runs: never a time taken
// by the caller before the request waited in a pool or a network queue. Joined in as a
// one-row table, so the expiry test and the new expiry use the same instant.
const SERVER_NOW =
  '(SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms) AS t';

export function postgresStatements(schema: string): PostgresStatements {
  const s = quoteIdentifier(schema);
  return {
    // One round trip: create the logbook and the run if new; the caller re-selects when a
    // concurrent creator won (its row is not in this statement's snapshot).
    ensureFlow: named(
      `WITH book AS (
         INSERT INTO ${s}.taskflow_logbooks (id, created_at, record) VALUES ($6, $7, $8) ON CONFLICT (id) DO NOTHING
       ), flow AS (
         INSERT INTO ${s}.taskflow_flows (id, logbook_id, state, created_at, record)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING record
       )
       SELECT record FROM flow UNION ALL SELECT record FROM ${s}.taskflow_flows WHERE id = $1 LIMIT 1`,
    ),
    selectFlow: named(`SELECT record FROM ${s}.taskflow_flows WHERE id = $1`),
    // One statement, so the run and its atoms come from one snapshot.
    loadRun: named(
      `SELECT f.record, COALESCE((SELECT array_agg(a.record ORDER BY a.seq) FROM ${s}.taskflow_atoms a WHERE a.flow_id = f.id), '{}') AS atoms
         FROM ${s}.taskflow_flows f WHERE f.id = $1`,
    ),
    selectAtomState: named(
      `SELECT state FROM ${s}.taskflow_atoms WHERE flow_id = $1 AND name = $2`,
    ),
    selectHolder: named(
      `SELECT lease_owner, lease_token, lease_expires_at FROM ${s}.taskflow_flows WHERE id = $1`,
    ),
    updateFlow: named(
      `UPDATE ${s}.taskflow_flows SET logbook_id = $4, state = $5, record = $6 WHERE id = $1 AND ${FENCE}`,
    ),
    // One statement: fence, transition rule and upsert. FOR SHARE holds the run's row until
    // commit, so a takeover (an UPDATE of the lease) waits for this write, or this write sees
    // the new token and writes nothing.
    upsertAtom: named(
      `INSERT INTO ${s}.taskflow_atoms AS a (flow_id, name, state, record)
       SELECT f.id, $4, $5, $6 FROM ${s}.taskflow_flows f
        WHERE f.id = $1 AND f.lease_token = $2 AND f.lease_owner = $3
          AND ($7::boolean OR EXISTS (SELECT 1 FROM ${s}.taskflow_atoms x WHERE x.flow_id = $1 AND x.name = $4))
        FOR SHARE OF f
       ON CONFLICT (flow_id, name) DO UPDATE SET state = EXCLUDED.state, record = EXCLUDED.record
        WHERE a.state = ANY($8::text[])`,
    ),
    saveAtoms: named(
      `SELECT ${s}.taskflow_save_atoms($1, $2, $3, $4::text[], $5::text[], $6::text[], $7::boolean[], $8::text[])`,
    ),
    openRun: named(
      `SELECT * FROM ${s}.taskflow_open_run($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, ${FENCED_LEASE_EXPIRY})`,
    ),
    saveRun: named(
      `SELECT ${s}.taskflow_save_run($1, $2, $3, $4::text[], $5::text[], $6::text[], $7::boolean[], $8::text[], $9, $10, $11, $12, ${FENCED_LEASE_EXPIRY})`,
    ),
    // Row locking makes these exclusive: a second UPDATE waits, then re-checks the WHERE
    // against the winner's row and matches nothing (or, fenced, only a bigger token wins).
    acquireLease: named(
      `UPDATE ${s}.taskflow_flows SET lease_owner = $2, lease_token = lease_token + 1, lease_expires_at = t.ms + $3
         FROM ${SERVER_NOW}
        WHERE id = $1 AND NOT ${CARRIED} AND (lease_owner IS NULL OR lease_expires_at <= t.ms)
        RETURNING lease_owner, lease_token, lease_expires_at`,
    ),
    acquireFencedLease: named(
      `UPDATE ${s}.taskflow_flows SET lease_owner = $2, lease_token = $3, lease_expires_at = ${FENCED_LEASE_EXPIRY}
        WHERE id = $1 AND (lease_token < $3 OR (lease_token = $3 AND lease_owner = $2))
        RETURNING lease_owner, lease_token, lease_expires_at`,
    ),
    // A fenced lease is never renewed: its expiry is the job-carried marker.
    renewLease: named(
      `UPDATE ${s}.taskflow_flows SET lease_expires_at = t.ms + $4 FROM ${SERVER_NOW}
        WHERE id = $1 AND ${FENCE} AND NOT ${CARRIED}
        RETURNING lease_owner, lease_token, lease_expires_at`,
    ),
    releaseLease: named(
      `UPDATE ${s}.taskflow_flows
          SET lease_owner = NULL, lease_expires_at = CASE WHEN ${CARRIED} THEN lease_expires_at ELSE 0 END
        WHERE id = $1 AND ${FENCE}`,
    ),
    listBooks: named(
      `SELECT id, created_at, record FROM ${s}.taskflow_logbooks
        WHERE ($2::text IS NULL OR created_at > $1 OR (created_at = $1 AND id > $2))
        ORDER BY created_at, id LIMIT $3`,
    ),
    deleteFlow: named(
      `DELETE FROM ${s}.taskflow_flows USING ${SERVER_NOW}
        WHERE id = $1 AND NOT (lease_owner IS NOT NULL AND lease_expires_at > t.ms)
          AND NOT (${CARRIED} AND state NOT IN ('SUCCESS', 'REVERTED'))
          AND ($2::text[] IS NULL OR state = ANY($2::text[]))
        RETURNING id`,
    ),
    named,
  };
}
