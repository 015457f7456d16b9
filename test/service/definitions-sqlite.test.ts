import { join } from 'node:path';
import { createSqliteJobBoard, createSqliteRunStore, openRunChangeFeed } from '../../src/index.ts';
import { openDefinitionStore, openTokenStore } from '../../src/service/index.ts';
import { testServers } from '../support/servers.ts';
import { definitionsSuite } from './definitions-suite.ts';

const servers = await testServers('definitions-sqlite');

definitionsSuite('SQLite', async () => {
  const path = join(servers.dir, 'runs.db');
  const url = `sqlite://${path}`;
  return {
    runs: createSqliteRunStore({ path }),
    board: createSqliteJobBoard({ path: join(servers.dir, 'jobs.db') }),
    openTokens: () => openTokenStore(url),
    openFeed: () => openRunChangeFeed(url),
    openDefinitions: () => openDefinitionStore(url),
  };
});
