import {
  type PostgresErrorKinds,
  toPostgresError,
} from '../../drivers/postgres/postgres-errors.ts';
import { StorageError } from '../storage-error.ts';

const STORAGE_KINDS: PostgresErrorKinds<'STORAGE_UNAVAILABLE' | 'STORAGE_CORRUPT'> = {
  errorClass: StorageError,
  unavailable: 'STORAGE_UNAVAILABLE',
  corrupt: 'STORAGE_CORRUPT',
  tables: 'taskflow',
};

/**
 * Turns a `pg` error into a {@link StorageError}: `STORAGE_UNAVAILABLE` (retryable) or
 * `STORAGE_CORRUPT`, as `toPostgresError` describes. StorageErrors pass through.
 */
export function toPostgresStorageError(error: unknown, schema: string): unknown {
  return toPostgresError(error, schema, STORAGE_KINDS);
}
