import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { registry } from '../../examples/service-flows.ts';
import {
  createSqliteJobBoard,
  createSqliteRunStore,
  Engine,
  linearFlow,
  openRunChangeFeed,
  task,
} from '../../src/index.ts';
import { startService } from '../../src/service/index.ts';
import { testServers } from '../support/servers.ts';

const servers = await testServers('service-change-retention');

test('the service prunes changes older than its retention from the change feed, and keeps the newer ones', async () => {
  const path = join(servers.dir, 'runs.db');
  const runs = createSqliteRunStore({ path });
  const board = createSqliteJobBoard({ path: join(servers.dir, 'jobs.db') });
  const feed = await openRunChangeFeed(`sqlite://${path}`);
  const flow = () => linearFlow('f', [task({ name: 'a', execute: () => 1 })]);
  let now = Date.now() - 3 * 3_600_000;
  const clock = {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  };
  await new Engine(flow(), { clock, persistence: { runs, flowId: 'old-run' } }).run();
  now = Date.now();
  await new Engine(flow(), { clock, persistence: { runs, flowId: 'new-run' } }).run();
  assert.ok((await feed.read({ runId: 'old-run' })).length > 0);

  const service = await startService({
    runs,
    board,
    registry,
    feed,
    auth: 'none',
    conductors: 0,
    dashboard: false,
    changeRetentionMs: 3_600_000,
  });
  try {
    for (let tries = 0; (await feed.read({ runId: 'old-run' })).length > 0; tries++) {
      assert.ok(tries < 500, 'the old changes were pruned at start');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok((await feed.read({ runId: 'new-run' })).length > 0, 'the new ones are kept');
  } finally {
    await service.close();
    await feed.close();
    await board.close();
    await runs.close();
  }
});
