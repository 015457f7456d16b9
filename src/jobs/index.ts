// The jobs feature's public surface: the model, the ports by role, the error, the URL opener
// and each backend's factory. Adapters' internals stay private to their folders.

export { guardJobBoard, type JobBoardOptions } from './guarded-job-board.ts';
export type {
  ClaimWriteOutcome,
  ConductorHeartbeat,
  JobBoardBackend,
  PostOutcome,
  RedriveOutcome,
  TrashOutcome,
} from './job-board-backend.ts';
export {
  isJobBoardError,
  JOB_BOARD_ERROR_CODES,
  JobBoardError,
  type JobBoardErrorCode,
  type JobBoardErrorOptions,
} from './job-board-error.ts';
export {
  createMemoryJobBoard,
  MemoryJobBoardBackend,
  type MemoryJobBoardOptions,
  MemoryJobBoardState,
} from './memory/memory-job-board.ts';
export {
  type ClaimedJob,
  type ConductorInfo,
  isTerminal,
  JOB_EVENT_TYPES,
  JOB_OUTCOME_STATES,
  JOB_STATES,
  type Job,
  type JobClaim,
  type JobEvent,
  type JobEventType,
  type JobOutcome,
  type JobOutcomeState,
  type JobSpec,
  type JobState,
  type JobStore,
  MAX_OUTCOME_OUTPUTS_BYTES,
  MAX_PRIORITY,
  MIN_PRIORITY,
} from './model.ts';
export { type OpenJobBoardOptions, openJobBoard } from './open-job-board.ts';
export type {
  AbandonOptions,
  ClaimOptions,
  JobBoard,
  JobClaimer,
  JobEvents,
  JobPoster,
  JobPruneQuery,
  JobQuery,
  JobReader,
  JobRetention,
  SubscribeOptions,
  WaitOptions,
} from './ports.ts';
export {
  openPostgresJobBoard,
  type PostgresJobBoardOptions,
} from './postgres/postgres-job-board.ts';
export { openRedisJobBoard, type RedisJobBoardOptions } from './redis/redis-job-board.ts';
export { createSqliteJobBoard, type SqliteJobBoardOptions } from './sqlite/sqlite-job-board.ts';
