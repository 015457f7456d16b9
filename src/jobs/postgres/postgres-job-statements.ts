import { createHash } from 'node:crypto';
import { type NamedStatement, quoteIdentifier } from '../../drivers/postgres/postgres-pool.ts';

const STATEMENTS = [
  'insertJob',
  'selectJob',
  'selectByKey',
  'claim',
  'extend',
  'consume',
  'abandon',
  'trash',
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
const HELD = `id = $1 AND state = 'CLAIMED' AND token = $2 AND owner = $3`;

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
      `WITH next AS (
         SELECT id FROM ${jobs}
         WHERE state = 'UNCLAIMED' OR (state = 'CLAIMED' AND lease_expires_at <= $2)
         ORDER BY priority DESC, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
       UPDATE ${jobs} AS j SET state = 'CLAIMED', owner = $1, token = j.token + 1,
         lease_expires_at = $3, updated_at = $2,
         attempts = j.attempts + CASE WHEN j.state = 'CLAIMED' THEN 1 ELSE 0 END
       FROM next WHERE j.id = next.id RETURNING j.*`,
      'claimed',
      'updated_at',
    ).replace('$CHANNEL', '$4'),
    extend: `UPDATE ${jobs} SET lease_expires_at = $4, updated_at = $5 WHERE ${HELD} RETURNING *`,
    consume: notifying(
      `UPDATE ${jobs} SET state = 'COMPLETE', lease_expires_at = NULL, outcome = $4, updated_at = $5
       WHERE ${HELD} RETURNING *`,
      'completed',
      'updated_at',
    ).replace('$CHANNEL', '$6'),
    abandon: notifying(
      `UPDATE ${jobs} SET attempts = attempts + $8::int, lease_expires_at = NULL, updated_at = $4,
         state = CASE WHEN $8::int = 1 AND attempts + 1 >= $5::int THEN 'DEAD_LETTER' ELSE 'UNCLAIMED' END,
         dead_letter_reason = CASE WHEN $8::int = 1 AND attempts + 1 >= $5::int THEN $6 ELSE NULL END
       WHERE ${HELD} RETURNING *`,
      'abandoned',
      'updated_at',
    ).replace('$CHANNEL', '$7'),
    trash: notifying(
      `DELETE FROM ${jobs} WHERE id = $1 AND NOT (state = 'CLAIMED' AND lease_expires_at > $2)
       RETURNING *`,
      'trashed',
      '$2::bigint',
    ).replace('$CHANNEL', '$3'),
    upsertConductor: `INSERT INTO ${conductors} (name, last_seen_at, expires_at, meta) VALUES ($1, $2, $3, $4)
      ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at,
        expires_at = excluded.expires_at, meta = excluded.meta`,
    deleteConductor: `DELETE FROM ${conductors} WHERE name = $1`,
    liveConductors: `SELECT * FROM ${conductors} WHERE expires_at > $1 ORDER BY name`,
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
