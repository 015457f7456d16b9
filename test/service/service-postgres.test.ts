import {
  openPostgresJobBoard,
  openPostgresRunStore,
  openRedisJobBoard,
  openRunChangeFeed,
} from '../../src/index.ts';
import { openTokenStore } from '../../src/service/index.ts';
import { POSTGRES_URL, REDIS_URL, testServers } from '../support/servers.ts';
import { apiSuite } from './api-suite.ts';

const servers = await testServers('service-postgres');

/** A PostgreSQL run store in a fresh schema, with its tokens and change feed. */
async function postgresRuns() {
  const schema = servers.schemas.next();
  const url = `${POSTGRES_URL}?schema=${schema}`;
  return {
    runs: await openPostgresRunStore({ url: POSTGRES_URL, schema }),
    openTokens: () => openTokenStore(url),
    openFeed: () => openRunChangeFeed(url),
  };
}

apiSuite(
  'PostgreSQL (run store and board)',
  async () => ({
    ...(await postgresRuns()),
    board: await openPostgresJobBoard({ url: POSTGRES_URL, schema: servers.schemas.next() }),
  }),
  servers.pgSkip,
);

apiSuite(
  'PostgreSQL run store and Redis board',
  async () => ({
    ...(await postgresRuns()),
    board: await openRedisJobBoard({ url: REDIS_URL, prefix: servers.prefixes.next() }),
  }),
  servers.pgSkip || servers.redisSkip,
);
