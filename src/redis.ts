// `taskflow-ts/redis`: the jobboard on Redis. `ioredis` is an optional peer dependency,
// loaded when the first board is opened: `npm install ioredis`.
export { redactUrl } from './drivers/connection-url.ts';
export { openRedisJobBoard, type RedisJobBoardOptions } from './jobs/redis/redis-job-board.ts';
