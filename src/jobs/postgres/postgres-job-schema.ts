import type pg from 'pg';
import { migratePostgresSchema } from '../../drivers/postgres/postgres-migrations.ts';
import { JobBoardError } from '../job-board-error.ts';

/** The jobboard's own version table, so runs and jobs can share a schema and migrate apart. */
export const JOB_VERSION_TABLE = 'taskflow_jobboard_schema_version';
const TABLES = ['taskflow_jobs', 'taskflow_conductors'] as const;

/**
 * Brings `schema` to the latest jobboard version under a session advisory lock, so boards
 * opening together migrate once. Refuses, before writing anything, a schema at a newer version
 * or whose jobboard tables are not ours.
 */
export async function preparePostgresJobSchema(pool: pg.Pool, schema: string): Promise<void> {
  await migratePostgresSchema(pool, schema, {
    directory: new URL('./migrations/', import.meta.url),
    versionTable: JOB_VERSION_TABLE,
    tables: TABLES,
    lockPrefix: 'taskflow-ts-jobs:',
    refuse: {
      unversioned: (ours) =>
        new JobBoardError(
          'SCHEMA_MISMATCH',
          `PostgreSQL schema "${schema}" has table ${ours.join(', ')} but no ${JOB_VERSION_TABLE}, so the tables were not made by this library; nothing was changed. Use another schema (option "schema"), or drop those tables if they are disposable.`,
        ),
      newer: (version, latest) =>
        new JobBoardError(
          'SCHEMA_MISMATCH',
          `PostgreSQL schema "${schema}" is at jobboard schema version ${version}, newer than the ${latest} this version of the library knows; nothing was changed. Upgrade the library in every process that uses this database.`,
        ),
    },
  });
}
