import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { registry } from '../../examples/service-flows.ts';
import {
  createSqliteJobBoard,
  createSqliteRunStore,
  type Job,
  openRunChangeFeed,
  operatorRequest,
  requestRunAction,
} from '../../src/index.ts';
import { FinishedRuns } from '../../src/service/finished-runs.ts';
import { startService } from '../../src/service/index.ts';
import { testServers } from '../support/servers.ts';
import { ApiClient } from './api-client.ts';

const servers = await testServers('service-finished-runs');

const job = (over: Partial<Job>): Job => ({
  id: 'r',
  name: 'r',
  flow: { name: 'f', version: '1' },
  store: {},
  priority: 0,
  idempotencyKey: null,
  createdAt: 0,
  updatedAt: 0,
  state: 'COMPLETE',
  owner: null,
  leaseExpiresAt: null,
  token: 1,
  attempts: 0,
  outcome: { state: 'SUCCESS' },
  deadLetterReason: null,
  request: null,
  ...over,
});

describe('finished runs kept by the service', () => {
  it('keeps only finished runs whose job is settled, until evicted or too old', async () => {
    const finished = new FinishedRuns({ maxAgeMs: 50 });
    assert.equal(finished.keep('a', 'RUNNING', job({ state: 'CLAIMED' }), 'x'), 'x');
    assert.equal(finished.get('a'), undefined, 'a running run is not kept');
    const pending = job({ request: operatorRequest('redrive', { by: 'x' }) });
    finished.keep('b', 'REVERTED', pending, 'y');
    assert.equal(finished.get('b'), undefined, 'nor one with a request pending');
    finished.keep('c', 'SUCCESS', job({}), 'z');
    assert.equal(finished.get('c'), 'z');
    finished.evict('c');
    assert.equal(finished.get('c'), undefined);
    finished.keep('d', 'FAILURE', undefined, 'w');
    assert.equal(finished.get('d'), 'w', 'a run without a job');
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(finished.get('d'), undefined, 'too old');
  });

  it('shows at once what another process changed on a finished run through the board', async () => {
    const path = join(servers.dir, 'runs.db');
    const boardPath = join(servers.dir, 'jobs.db');
    const runs = createSqliteRunStore({ path });
    const board = createSqliteJobBoard({ path: boardPath });
    const feed = await openRunChangeFeed(`sqlite://${path}`);
    const service = await startService({
      runs,
      board,
      registry,
      feed,
      auth: 'none',
      conductors: 1,
      dashboard: false,
      // Long enough that only an eviction can show the change within the test.
      finishedRuns: new FinishedRuns({ maxAgeMs: 600_000 }),
    });
    const otherRuns = createSqliteRunStore({ path });
    const otherBoard = createSqliteJobBoard({ path: boardPath });
    try {
      const api = new ApiClient(service.url);
      const posted = await api.post('/v1/runs', {
        flow: 'provision',
        inputs: { size: 1, serverName: 'x', failBoot: true },
      });
      const id = posted.body.id as string;
      await board.wait(id);
      let shown = (await api.get(`/v1/runs/${id}`)).body;
      while (shown.job.state !== 'COMPLETE') shown = (await api.get(`/v1/runs/${id}`)).body;
      assert.equal(shown.state, 'REVERTED');
      assert.deepEqual((await api.get(`/v1/runs/${id}`)).body, shown, 'kept');

      await requestRunAction(
        { board: otherBoard, runs: otherRuns },
        id,
        operatorRequest('redrive', { by: 'elsewhere' }),
      );
      for (let tries = 0; ; tries++) {
        const now = (await api.get(`/v1/runs/${id}`)).body;
        if (now.job.request !== null || now.actions.length > 0) break;
        assert.ok(tries < 1000, 'the kept answer was evicted');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await service.close();
      await otherBoard.close();
      await otherRuns.close();
      await feed.close();
      await board.close();
      await runs.close();
    }
  });
});
