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
import { type DefinitionRowData, type DefinitionStore, fromRow } from './definition-store.ts';

const VERSION_TABLE = 'taskflow_definition_version';
const COLUMNS = 'name, version, document, digest, created_at';

/** Definitions in the run store's PostgreSQL schema, in their own table with their own migrations. */
export async function openPostgresDefinitionStore(options: {
  readonly url: string;
  readonly schema?: string;
}): Promise<DefinitionStore> {
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
        tables: ['taskflow_definitions'],
        lockPrefix: 'taskflow-ts-definitions:',
        refuse: schemaMismatchRefusals(schema, VERSION_TABLE, 'The flow definitions'),
      }),
    (error) => error,
  );
  const table = `${quoteIdentifier(schema)}.taskflow_definitions`;
  return {
    async insert(d) {
      const { rowCount } = await pool.query(
        `INSERT INTO ${table} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name, version) DO NOTHING`,
        [d.name, d.version, JSON.stringify(d.document), d.digest, d.createdAt],
      );
      return (rowCount ?? 0) > 0;
    },
    async get(name, version) {
      const { rows } =
        version === undefined
          ? await pool.query<DefinitionRowData>(
              `SELECT ${COLUMNS} FROM ${table} WHERE name = $1 ORDER BY seq DESC LIMIT 1`,
              [name],
            )
          : await pool.query<DefinitionRowData>(
              `SELECT ${COLUMNS} FROM ${table} WHERE name = $1 AND version = $2`,
              [name, version],
            );
      return rows[0] === undefined ? undefined : fromRow(rows[0]);
    },
    async list() {
      const { rows } = await pool.query<DefinitionRowData>(
        `SELECT ${COLUMNS} FROM ${table} ORDER BY name, seq`,
      );
      return rows.map(fromRow);
    },
    async close() {
      await pool.end();
    },
  };
}
