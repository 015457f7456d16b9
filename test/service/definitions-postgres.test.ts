import { openPostgresJobBoard, openPostgresRunStore, openRunChangeFeed } from '../../src/index.ts';
import { openDefinitionStore, openTokenStore } from '../../src/service/index.ts';
import { POSTGRES_URL, testServers } from '../support/servers.ts';
import { definitionsSuite } from './definitions-suite.ts';

const servers = await testServers('definitions-postgres');

definitionsSuite(
  'PostgreSQL',
  async () => {
    const schema = servers.schemas.next();
    const url = `${POSTGRES_URL}?schema=${schema}`;
    return {
      runs: await openPostgresRunStore({ url: POSTGRES_URL, schema }),
      board: await openPostgresJobBoard({ url: POSTGRES_URL, schema: servers.schemas.next() }),
      openTokens: () => openTokenStore(url),
      openFeed: () => openRunChangeFeed(url),
      openDefinitions: () => openDefinitionStore(url),
    };
  },
  servers.pgSkip,
);
