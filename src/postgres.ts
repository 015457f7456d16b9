// `taskflow-ts/postgres`: the run store and jobboard on PostgreSQL. `pg` is an optional peer
// dependency, loaded when the first pool is made from a URL: `npm install pg`.
export { redactUrl } from './drivers/connection-url.ts';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  type PostgresConnection,
} from './drivers/postgres/postgres-pool.ts';
export {
  openPostgresJobBoard,
  type PostgresJobBoardOptions,
} from './jobs/postgres/postgres-job-board.ts';
export {
  openPostgresRunStore,
  PostgresRunStoreBackend,
  PostgresRunStoreDriver,
  type PostgresRunStoreOptions,
} from './persistence/postgres/postgres-run-store.ts';
