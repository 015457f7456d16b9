import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Engine,
  type EngineEvent,
  isStorageError,
  linearFlow,
  openRunStore,
  type RunStore,
  task,
} from '../../src/index.ts';
import { PrivatePostgres } from '../support/private-postgres.ts';

// The server itself goes away in the middle of a durable run: a private PostgreSQL (its own
// folder and port) is stopped and started again, so the shared server is never touched.

const unavailable = PrivatePostgres.unavailable();
if (unavailable && process.env.CI === 'true')
  throw new Error(`${unavailable}; under CI=true this is a failure.`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function slowFlow(ran: string[]) {
  return linearFlow(
    'outage',
    Array.from({ length: 8 }, (_, i) =>
      task({
        name: `t${i}`,
        provides: `v${i}`,
        execute: async () => {
          ran.push(`t${i}`);
          await sleep(40);
          return i;
        },
      }),
    ),
  );
}

describe('PostgreSQL server stopped during a durable run', { skip: unavailable || false }, () => {
  let server: PrivatePostgres;
  let store: RunStore;
  before(async () => {
    server = PrivatePostgres.create();
    store = await openRunStore(`${server.url}?schema=outage`);
  });
  after(async () => {
    await store?.close().catch(() => undefined);
    server?.destroy();
  });

  test('a brief stop is ridden out: writes are retried with backoff and the run succeeds', async () => {
    const ran: string[] = [];
    const engine = new Engine(slowFlow(ran), { persistence: { store, flowId: 'brief' } });
    let stopped = false;
    engine.subscribe((event: EngineEvent) => {
      if (event.type === 'atom' && event.atom === 't2' && event.to === 'SUCCESS' && !stopped) {
        stopped = true;
        server.stop();
        setTimeout(() => server.start(), 300);
      }
    });
    const result = await engine.run();
    assert.equal(result.state, 'SUCCESS');
    assert.equal(stopped, true);
    const run = await store.loadRun('brief');
    assert.equal(run?.flow.state, 'SUCCESS');
    assert.deepEqual(
      run?.atoms.map((atom) => `${atom.name}:${atom.state}`),
      Array.from({ length: 8 }, (_, i) => `t${i}:SUCCESS`),
    );
    assert.deepEqual(
      ran,
      Array.from({ length: 8 }, (_, i) => `t${i}`),
      'nothing ran twice',
    );
  });

  test('a stop longer than the retries fails the run with a storage error; it resumes when the server is back', async () => {
    const ran: string[] = [];
    const engine = new Engine(slowFlow(ran), {
      persistence: { store, flowId: 'long', leaseTtlMs: 400 },
    });
    engine.subscribe((event: EngineEvent) => {
      if (event.type === 'atom' && event.atom === 't3' && event.to === 'SUCCESS') server.stop();
    });
    await assert.rejects(engine.run(), (error: unknown) =>
      isStorageError(error, 'STORAGE_UNAVAILABLE'),
    );
    const reported = engine
      .atoms()
      .filter((atom) => atom.state === 'SUCCESS')
      .map((atom) => atom.name);
    server.start();
    // The failed engine could not release its lease while the server was down; it expires.
    await sleep(500);
    const stored = await store.loadRun('long');
    for (const name of reported) {
      assert.equal(
        stored?.atoms.find((atom) => atom.name === name)?.state,
        'SUCCESS',
        `${name} reported done but not stored`,
      );
    }
    const resumed = new Engine(slowFlow(ran), { persistence: { store, flowId: 'long' } });
    assert.equal((await resumed.run()).state, 'SUCCESS');
    const counts = new Map<string, number>();
    for (const name of ran) counts.set(name, (counts.get(name) ?? 0) + 1);
    const twice = [...counts].filter(([, count]) => count > 1).map(([name]) => name);
    assert.ok(
      twice.length <= 1,
      `only the atom in flight may run again, ran twice: ${twice.join(', ')}`,
    );
  });
});
