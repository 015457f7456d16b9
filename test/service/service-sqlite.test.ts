import { join } from 'node:path';
import { createSqliteJobBoard, createSqliteRunStore } from '../../src/index.ts';
import { testServers } from '../support/servers.ts';
import { apiSuite } from './api-suite.ts';

const servers = await testServers('service-sqlite');

apiSuite('SQLite', async () => ({
  runs: createSqliteRunStore({ path: join(servers.dir, 'runs.db') }),
  board: createSqliteJobBoard({ path: join(servers.dir, 'jobs.db') }),
}));
