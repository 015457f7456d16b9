import type Database from 'better-sqlite3';
import { TaskFlowError } from '../../core/errors.ts';
import { migrateSqliteComponent } from '../../drivers/sqlite/sqlite-component-schema.ts';
import { openSqliteFile } from '../../drivers/sqlite/sqlite-file.ts';
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
  readonly created_at: number;
  readonly revoked_at: number | null;
}

/**
 * Tokens in the run store's SQLite file, in their own table with their own migrations. The
 * file must already be a taskflow run store (open the run store first, which creates it).
 */
export function openSqliteTokenStore(path: string): TokenStore {
  const db = openSqliteFile({
    path,
    synchronous: 'NORMAL',
    prepare: (opened) => prepare(opened, path),
    toError: (error) => error,
  });
  const info = (row: InfoRow): TokenInfo => ({
    id: row.id,
    scope: row.scope,
    label: row.label,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  });
  const columns = 'id, scope, label, created_at, revoked_at';
  const insert = db.prepare(
    'INSERT INTO taskflow_service_tokens (id, hash, scope, label, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const byHash = db.prepare(
    `SELECT ${columns} FROM taskflow_service_tokens WHERE hash = ? AND revoked_at IS NULL`,
  );
  const all = db.prepare(`SELECT ${columns} FROM taskflow_service_tokens ORDER BY created_at, id`);
  const revoke = db.prepare(
    'UPDATE taskflow_service_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
  );
  return {
    async create(scope, label): Promise<CreatedToken> {
      const { token, row } = newToken(scope, label, Date.now());
      insert.run(row.id, row.hash, row.scope, row.label, row.createdAt);
      return { ...row, token, revokedAt: null };
    },
    async verify(token) {
      const row = byHash.get(hashToken(token)) as InfoRow | undefined;
      return row === undefined ? undefined : info(row);
    },
    async list() {
      return (all.all() as InfoRow[]).map(info);
    },
    async revoke(id) {
      return revoke.run(Date.now(), id).changes > 0;
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
        `SQLite file ${path} is not a taskflow run store, so it cannot hold the service's tokens; pass the URL of the run store (--runs), which is created when the service first opens it.`,
      ),
    newer: (version, latest) =>
      new TaskFlowError(
        'SCHEMA_MISMATCH',
        `The service tokens in ${path} are at schema version ${version}, newer than the ${latest} this version of the library knows; upgrade the library.`,
      ),
  });
}
