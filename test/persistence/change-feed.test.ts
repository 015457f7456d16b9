import { join } from 'node:path';
import { createSqliteRunStore, openPostgresRunStore, openRunChangeFeed } from '../../src/index.ts';
import { POSTGRES_URL, testServers } from '../support/servers.ts';
import { runChangeFeedContract } from './change-feed-contract.ts';

const servers = await testServers('change-feed');
let files = 0;

runChangeFeedContract('SQLite', async () => {
  files += 1;
  const path = join(servers.dir, `runs-${files}.db`);
  const runs = createSqliteRunStore({ path });
  return { runs, feed: await openRunChangeFeed(`sqlite://${path}`) };
});

runChangeFeedContract(
  'PostgreSQL',
  async () => {
    const schema = servers.schemas.next();
    const runs = await openPostgresRunStore({ url: POSTGRES_URL, schema });
    return { runs, feed: await openRunChangeFeed(`${POSTGRES_URL}?schema=${schema}`) };
  },
  servers.pgSkip,
);
