// The persistence feature: ports, the model, the guard every backend shares, and the backends.
export { type GuardOptions, guardRunStore } from './guarded-run-store.ts';
export {
  createMemoryRunStore,
  MemoryRunStoreBackend,
  MemoryRunStoreDriver,
} from './memory/memory-run-store.ts';
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
  type OpenedRun,
  type OpenRunRequest,
  type RunJournal,
  type RunLeaseInfo,
  type RunPruneQuery,
  type RunPruner,
  type RunReader,
  type RunStorage,
  type RunStore,
  type RunWriteOptions,
} from './ports.ts';
export {
  openPostgresRunStore,
  PostgresRunStoreBackend,
  PostgresRunStoreDriver,
  type PostgresRunStoreOptions,
} from './postgres/postgres-run-store.ts';
export type {
  AtomWrite,
  AtomWriteRule,
  DeleteOutcome,
  LeaseHolder,
  LeaseOutcome,
  OpenOutcome,
  OpenRequest,
  RunStoreBackend,
  RunStoreDriver,
  WriteOutcome,
} from './run-store-driver.ts';
export {
  createSqliteRunStore,
  SqliteRunStoreBackend,
  SqliteRunStoreDriver,
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
