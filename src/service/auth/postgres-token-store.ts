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
  type CreatedToken,
  hashToken,
  newToken,
  type TokenInfo,
  type TokenScope,
  type TokenStore,
} from './token-store.ts';

const VERSION_TABLE = 'taskflow_service_token_version';

interface InfoRow {
  readonly id: string;
  readonly scope: TokenScope;
  readonly label: string;
  readonly created_at: string;
  readonly revoked_at: string | null;
}

/** Tokens in the run store's PostgreSQL schema, in their own table with their own migrations. */
export async function openPostgresTokenStore(options: {
  readonly url: string;
  readonly schema?: string;
}): Promise<TokenStore> {
  const schema = schemaName(
    options.schema,
    (message) => new TaskFlowError('INVALID_ARGUMENT', message),
  );
  const { pool } = await connectPostgres(
    { url: options.url, maxConnections: 2 },
    (made) =>
      migratePostgresSchema(made, schema, {
        directory: new URL('./migrations/postgres/', import.meta.url),
        versionTable: VERSION_TABLE,
        tables: ['taskflow_service_tokens'],
        lockPrefix: 'taskflow-ts-service-tokens:',
        refuse: schemaMismatchRefusals(schema, VERSION_TABLE, 'The service tokens'),
      }),
    (error) => error,
  );
  const table = `${quoteIdentifier(schema)}.taskflow_service_tokens`;
  const columns = 'id, scope, label, created_at, revoked_at';
  const info = (row: InfoRow): TokenInfo => ({
    id: row.id,
    scope: row.scope,
    label: row.label,
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  });
  return {
    async create(scope, label): Promise<CreatedToken> {
      const { token, row } = newToken(scope, label, Date.now());
      await pool.query(
        `INSERT INTO ${table} (id, hash, scope, label, created_at) VALUES ($1, $2, $3, $4, $5)`,
        [row.id, row.hash, row.scope, row.label, row.createdAt],
      );
      return { ...row, token, revokedAt: null };
    },
    async verify(token) {
      const { rows } = await pool.query<InfoRow>(
        `SELECT ${columns} FROM ${table} WHERE hash = $1 AND revoked_at IS NULL`,
        [hashToken(token)],
      );
      return rows[0] === undefined ? undefined : info(rows[0]);
    },
    async list() {
      const { rows } = await pool.query<InfoRow>(
        `SELECT ${columns} FROM ${table} ORDER BY created_at, id`,
      );
      return rows.map(info);
    },
    async revoke(id) {
      const { rowCount } = await pool.query(
        `UPDATE ${table} SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`,
        [Date.now(), id],
      );
      return (rowCount ?? 0) > 0;
    },
    async close() {
      await pool.end();
    },
  };
}
