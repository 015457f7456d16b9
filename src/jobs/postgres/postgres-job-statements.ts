import { createHash } from 'node:crypto';
import { type NamedStatement, quoteIdentifier } from '../../drivers/postgres/postgres-pool.ts';

const STATEMENTS = [
  'insertJob',
  'selectJob',
  'selectByKey',
  'claim',
  'untilLeaseExpiry',
  'extend',
  'consume',
  'abandon',
  'trash',
  'redrive',
  'request',
  'deleteFinished',
  'upsertConductor',
  'deleteConductor',
  'liveConductors',
] as const;

/** The statements of the PostgreSQL jobboard for one schema, and its notification channel. */
export type PostgresJobStatements = {
  readonly [K in (typeof STATEMENTS)[number]]: NamedStatement;
} & {
  /** The NOTIFY channel of this schema's board (a hash: channel names are capped at 63 bytes). */
  readonly channel: string;
  /** Names a statement built at run time (listing filters) by its text. */
  named(text: string): NamedStatement;
};

// Claim writes check state, token and owner in their WHERE clause; PostgreSQL's row lock makes
// each check-and-write atomic, and a writer that waited on the lock re-checks the new row.
const HELD = `j.id = $1 AND j.state = 'CLAIMED' AND j.token = $2 AND j.owner = $3`;

// Every time a statement writes or compares (lease expiry, updated_at, conductor times) is the
// server's clock in epoch ms, read once per statement: never a `now` the caller took before
// its query waited in a pool, a socket or a lock. clock_timestamp(), not now(): now() is the
// transaction's start. The CTE is volatile, so it is evaluated once, before any row lock is
// waited on; a time that is early by such a wait errs safe (a lease a little shorter, an
// expiry seen a little later).
const CLOCK = `clock AS (SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms)`;

/** `SELECT row.*, pg_notify(...)`: the event is sent when, and only if, the statement commits. */
function notifying(cte: string, type: string, at: string): string {
  return `WITH changed AS (${cte})
    SELECT changed.*, pg_notify($CHANNEL, json_build_object('type', '${type}', 'jobId', id,
      'jobName', name, 'state', state, 'at', ${at})::text) AS notified FROM changed`;
}

export function postgresJobStatements(schema: string): PostgresJobStatements {
  const hash = createHash('md5').update(schema).digest('hex').slice(0, 16);
  const jobs = `${quoteIdentifier(schema)}.taskflow_jobs`;
  const conductors = `${quoteIdentifier(schema)}.taskflow_conductors`;
  const text: Record<(typeof STATEMENTS)[number], string> = {
    insertJob: notifying(
      `INSERT INTO ${jobs} (id, name, flow_name, flow_version, store, priority, idempotency_key, created_at, updated_at, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
      'posted',
      'created_at',
    ).replace('$CHANNEL', '$11'),
    selectJob: `SELECT * FROM ${jobs} WHERE id = $1`,
    selectByKey: `SELECT * FROM ${jobs} WHERE idempotency_key = $1`,
    // SKIP LOCKED: concurrent claimers pass over a row another is claiming and take the next.
    claim: notifying(
      `WITH ${CLOCK}, next AS (
         SELECT id FROM ${jobs}
         WHERE state = 'UNCLAIMED'
           OR (state = 'CLAIMED' AND lease_expires_at <= (SELECT now_ms FROM clock))
         ORDER BY priority DESC, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
       UPDATE ${jobs} AS j SET state = 'CLAIMED', owner = $1, token = j.token + 1,
         lease_expires_at = clock.now_ms + $2::bigint, updated_at = clock.now_ms,
         attempts = j.attempts + CASE WHEN j.state = 'CLAIMED' THEN 1 ELSE 0 END
       FROM next, clock WHERE j.id = next.id RETURNING j.*`,
      'claimed',
      'updated_at',
    ).replace('$CHANNEL', '$3'),
    untilLeaseExpiry: `WITH ${CLOCK}
      SELECT greatest(0, min(lease_expires_at) - (SELECT now_ms FROM clock)) AS ms
        FROM ${jobs} WHERE state = 'CLAIMED'`,
    extend: `WITH ${CLOCK}
      UPDATE ${jobs} AS j SET lease_expires_at = clock.now_ms + $4::bigint, updated_at = clock.now_ms
      FROM clock WHERE ${HELD} RETURNING j.*`,
    consume: notifying(
      `WITH ${CLOCK}
       UPDATE ${jobs} AS j SET state = 'COMPLETE', lease_expires_at = NULL, outcome = $4,
         request = NULL, updated_at = clock.now_ms
       FROM clock WHERE ${HELD} RETURNING j.*`,
      'completed',
      'updated_at',
    ).replace('$CHANNEL', '$5'),
    abandon: notifying(
      `WITH ${CLOCK}
       UPDATE ${jobs} AS j SET attempts = j.attempts + $7::int, lease_expires_at = NULL,
         updated_at = clock.now_ms,
         state = CASE WHEN $7::int = 1 AND j.attempts + 1 >= $4::int THEN 'DEAD_LETTER' ELSE 'UNCLAIMED' END,
         dead_letter_reason = CASE WHEN $7::int = 1 AND j.attempts + 1 >= $4::int THEN $5 ELSE NULL END
       FROM clock WHERE ${HELD} RETURNING j.*`,
      'abandoned',
      'updated_at',
    ).replace('$CHANNEL', '$6'),
    trash: notifying(
      `WITH ${CLOCK}
       DELETE FROM ${jobs} AS j USING clock
       WHERE j.id = $1 AND NOT (j.state = 'CLAIMED' AND j.lease_expires_at > clock.now_ms)
       RETURNING j.*, clock.now_ms AS trashed_at`,
      'trashed',
      'trashed_at',
    ).replace('$CHANNEL', '$2'),
    deleteFinished: notifying(
      `WITH ${CLOCK}
       DELETE FROM ${jobs} AS j USING clock
       WHERE j.id = $1 AND j.state = ANY($2::text[]) AND j.updated_at < $3
       RETURNING j.*, clock.now_ms AS trashed_at`,
      'trashed',
      'trashed_at',
    ).replace('$CHANNEL', '$4'),
    redrive: notifying(
      `WITH ${CLOCK}
       UPDATE ${jobs} AS j SET state = 'UNCLAIMED', attempts = 0, lease_expires_at = NULL,
         dead_letter_reason = NULL, updated_at = clock.now_ms
       FROM clock WHERE j.id = $1 AND j.state = 'DEAD_LETTER' RETURNING j.*`,
      'abandoned',
      'updated_at',
    ).replace('$CHANNEL', '$2'),
    // A COMPLETE job is reopened by the request; the caller lists the states it may be set in.
    request: notifying(
      `WITH ${CLOCK}
       UPDATE ${jobs} AS j SET request = $2, updated_at = clock.now_ms,
         attempts = CASE WHEN j.state = 'COMPLETE' THEN 0 ELSE j.attempts END,
         outcome = CASE WHEN j.state = 'COMPLETE' THEN NULL ELSE j.outcome END,
         state = CASE WHEN j.state = 'COMPLETE' THEN 'UNCLAIMED' ELSE j.state END
       FROM clock WHERE j.id = $1 AND j.request IS NULL AND j.state = ANY($3::text[]) RETURNING j.*`,
      'requested',
      'updated_at',
    ).replace('$CHANNEL', '$4'),
    upsertConductor: `WITH ${CLOCK}
      INSERT INTO ${conductors} (name, last_seen_at, expires_at, meta)
        SELECT $1, clock.now_ms, clock.now_ms + $2::bigint, $3 FROM clock
      ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at,
        expires_at = excluded.expires_at, meta = excluded.meta`,
    deleteConductor: `DELETE FROM ${conductors} WHERE name = $1`,
    liveConductors: `WITH ${CLOCK}
      SELECT c.* FROM ${conductors} AS c, clock WHERE c.expires_at > clock.now_ms ORDER BY c.name`,
  };
  const named = (statement: string, body: string): NamedStatement => ({
    name: `tfjobs_${hash}_${statement}`,
    text: body,
  });
  const dynamic = new Map<string, NamedStatement>();
  return {
    ...(Object.fromEntries(
      STATEMENTS.map((statement) => [statement, named(statement, text[statement])]),
    ) as { readonly [K in (typeof STATEMENTS)[number]]: NamedStatement }),
    channel: `taskflow_jobs_${hash}`,
    named: (body) => {
      let statement = dynamic.get(body);
      if (statement === undefined) {
        statement = named(`list${dynamic.size}`, body);
        dynamic.set(body, statement);
      }
      return statement;
    },
  };
}
