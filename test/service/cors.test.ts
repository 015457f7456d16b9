import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registry } from '../../examples/service-flows.ts';
import {
  createSqliteJobBoard,
  createSqliteRunStore,
  type JobBoard,
  openRunChangeFeed,
  type RunChangeFeed,
  type RunStore,
} from '../../src/index.ts';
import {
  openTokenStore,
  type RunningService,
  startService,
  type TokenStore,
} from '../../src/service/index.ts';
import { testServers } from '../support/servers.ts';

const servers = await testServers('service-cors');

describe('CORS', () => {
  let runs: RunStore;
  let board: JobBoard;
  let feed: RunChangeFeed;
  let tokens: TokenStore;
  let service: RunningService;
  let token: string;

  before(async () => {
    const path = join(servers.dir, 'runs.db');
    runs = createSqliteRunStore({ path });
    board = createSqliteJobBoard({ path: join(servers.dir, 'jobs.db') });
    feed = await openRunChangeFeed(`sqlite://${path}`);
    tokens = await openTokenStore(`sqlite://${path}`);
    token = (await tokens.create('read', 'browser')).token;
    service = await startService({
      runs,
      board,
      registry,
      feed,
      auth: { tokens },
      corsOrigins: ['https://ops.example'],
      conductors: 0,
      dashboard: false,
    });
  });
  after(async () => {
    await service?.close();
    await tokens?.close();
    await feed?.close();
    await board?.close();
    await runs?.close();
  });

  it("answers a listed origin's preflight without a token, and marks its responses readable", async () => {
    const preflight = await fetch(`${service.url}/v1/runs`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://ops.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://ops.example');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const read = await fetch(`${service.url}/v1/flows`, {
      headers: { Origin: 'https://ops.example', Authorization: `Bearer ${token}` },
    });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('access-control-allow-origin'), 'https://ops.example');
  });

  it('gives another origin no CORS header, and still needs a token', async () => {
    const read = await fetch(`${service.url}/v1/flows`, {
      headers: { Origin: 'https://evil.example', Authorization: `Bearer ${token}` },
    });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('access-control-allow-origin'), null);
    const anonymous = await fetch(`${service.url}/v1/flows`, {
      headers: { Origin: 'https://ops.example' },
    });
    assert.equal(anonymous.status, 401);
  });
});
