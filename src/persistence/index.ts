// The persistence feature: ports, the model, the guard every backend shares, and the backends.
export { type GuardOptions, guardRunStore, type RunStorage } from './guarded-run-store.ts';
export { createMemoryRunStore, MemoryRunStoreBackend } from './memory/memory-run-store.ts';
export type {
  AtomDetail,
  FlowDetail,
  FlowFactoryRef,
  LogBook,
  RetryAttemptRecord,
} from './model.ts';
export { type OpenRunStoreOptions, openRunStore } from './open-run-store.ts';
export {
  FENCED_LEASE_EXPIRY,
  type FlowQuery,
  type Lease,
  type RunLeaseInfo,
  type RunPruneQuery,
  type RunPruner,
  type RunReader,
  type RunStore,
} from './ports.ts';
export {
  openPostgresRunStore,
  PostgresRunStoreBackend,
  type PostgresRunStoreOptions,
} from './postgres/postgres-run-store.ts';
export type {
  AtomWrite,
  AtomWriteRule,
  DeleteOutcome,
  LeaseHolder,
  LeaseOutcome,
  RunStoreBackend,
  WriteOutcome,
} from './run-store-backend.ts';
export {
  createSqliteRunStore,
  SqliteRunStoreBackend,
  type SqliteRunStoreOptions,
} from './sqlite/sqlite-run-store.ts';
export {
  assertJsonSafe,
  isStorageError,
  STORAGE_ERROR_CODES,
  StorageError,
  type StorageErrorCode,
  type StorageErrorOptions,
} from './storage-error.ts';
