import { join } from 'node:path';
import { createSqliteJobBoard, createSqliteRunStore, openRunChangeFeed } from '../../src/index.ts';
import { openTokenStore } from '../../src/service/index.ts';
import { testServers } from '../support/servers.ts';
import { apiSuite } from './api-suite.ts';

const servers = await testServers('service-sqlite');

apiSuite('SQLite', async () => {
  const path = join(servers.dir, 'runs.db');
  return {
    runs: createSqliteRunStore({ path }),
    board: createSqliteJobBoard({ path: join(servers.dir, 'jobs.db') }),
    openTokens: () => openTokenStore(`sqlite://${path}`),
    openFeed: () => openRunChangeFeed(`sqlite://${path}`),
  };
});
