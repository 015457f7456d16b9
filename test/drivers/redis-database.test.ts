import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openJobBoard } from '../../src/jobs/open-job-board.ts';
import { REDIS_URL, redisUnavailable } from '../support/servers.ts';

const skip = await redisUnavailable();
const server = new URL(REDIS_URL);

describe('a Redis URL naming a database the server lacks', { skip }, () => {
  it('fails to open, naming the database and the server limit, instead of using database 0', async () => {
    await assert.rejects(
      openJobBoard(`redis://${server.host}/99?prefix=tf-db-check`),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'INVALID_ARGUMENT');
        assert.match(error.message, /database 99/);
        assert.match(error.message, /the server has \d+ databases|the server's limit/);
        assert.ok(error.message.includes(server.host), error.message);
        return true;
      },
    );
  });

  it('opens a database the server has', async () => {
    const board = await openJobBoard(`redis://${server.host}/1?prefix=tf-db-check`);
    await board.close();
  });
});
