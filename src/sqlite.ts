// `taskflow-ts/sqlite`: the embedded default backend, a run store and a jobboard in SQLite
// files (better-sqlite3, loaded when the first file is opened).
export {
  createSqliteJobBoard,
  type SqliteJobBoardOptions,
} from './jobs/sqlite/sqlite-job-board.ts';
export {
  createSqliteRunStore,
  SqliteRunStoreBackend,
  SqliteRunStoreDriver,
  type SqliteRunStoreOptions,
} from './persistence/sqlite/sqlite-run-store.ts';
