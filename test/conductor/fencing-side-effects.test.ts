import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  Conductor,
  createMemoryJobBoard,
  createMemoryRunStore,
  FlowRegistry,
  type JobBoard,
  linearFlow,
  task,
} from '../../src/index.ts';
import { POSTGRES_URL, postgresUnavailable, TestSchemas } from '../support/servers.ts';

// docs/jobs.md, "Fencing side effects": a task that was already running when its conductor
// was paused finishes after another conductor took the job over. The engine cannot stop it,
// but the system it writes to can, given the claim's token: this is that pattern, run.

const skip = await postgresUnavailable();

describe('fencing side effects with the claim token', { skip }, () => {
  const schemas = new TestSchemas();
  let db: pg.Pool;
  let table: string;

  before(async () => {
    db = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 });
    const schema = schemas.next();
    table = `"${schema}".charges`;
    await db.query(`CREATE SCHEMA "${schema}"`);
    await db.query(
      `CREATE TABLE ${table} (order_id text PRIMARY KEY, charged_by text NOT NULL, fence bigint NOT NULL)`,
    );
  });

  after(async () => {
    await db?.end();
    await schemas.dropAll();
  });

  test("a zombie's late write is refused by the table; the new owner's stands", async () => {
    const refused: string[] = [];
    let releaseZombie: () => void = () => undefined;
    const zombieWoken = new Promise<void>((resolve) => {
      releaseZombie = resolve;
    });
    let zombieDone: () => void = () => undefined;
    const zombieFinished = new Promise<void>((resolve) => {
      zombieDone = resolve;
    });
    let firstCall = true;
    const registry = new FlowRegistry().register({
      name: 'order',
      version: '1',
      build: () =>
        linearFlow('order', [
          task({
            name: 'charge',
            requires: ['orderId'],
            execute: async ({ orderId }: { orderId: string }, { lease }) => {
              const zombie = firstCall;
              firstCall = false;
              // The first owner stops here as if paused, and writes only after the takeover.
              if (zombie) await zombieWoken;
              const owner = zombie ? 'zombie' : 'new owner';
              const { rowCount } = await db.query(
                `INSERT INTO ${table} (order_id, charged_by, fence) VALUES ($1, $2, $3)
                 ON CONFLICT (order_id) DO UPDATE SET charged_by = EXCLUDED.charged_by, fence = EXCLUDED.fence
                 WHERE ${table}.fence <= EXCLUDED.fence`,
                [orderId, owner, lease?.token ?? 0],
              );
              if (zombie) zombieDone();
              if (rowCount === 0) {
                refused.push(owner);
                throw new Error(`charge for ${orderId} was superseded by a newer owner`);
              }
            },
          }),
        ]),
    });
    const board: JobBoard = createMemoryJobBoard({ recheckMs: 10 });
    const runs = createMemoryRunStore();
    const ttl = 200;
    const options = { board, runs, registry, leaseTtlMs: ttl, claimWaitMs: 20 };
    const job = await board.post({
      name: 'order-1',
      flow: { name: 'order', version: '1' },
      store: { orderId: 'o-1' },
    });
    // A's claim must expire while its task hangs: its heartbeats go nowhere.
    const silent = {
      ...options,
      board: new Proxy(board, {
        get(target, key) {
          const value = Reflect.get(target, key);
          if (key === 'extend') return () => new Promise(() => undefined);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
    };
    const a = new Conductor({ ...silent, name: 'a' });
    const runningA = a.run();
    while (firstCall) await new Promise((resolve) => setTimeout(resolve, 5));
    const b = new Conductor({ ...options, name: 'b' });
    const runningB = b.run();
    const done = await board.wait(job.id, { timeoutMs: 10_000 });
    assert.equal(done.outcome?.state, 'SUCCESS');
    releaseZombie();
    await zombieFinished;
    await Promise.all([a.stop(), b.stop()]);
    await Promise.all([runningA, runningB]);
    const { rows } = await db.query(`SELECT charged_by, fence FROM ${table}`);
    assert.deepEqual(rows, [{ charged_by: 'new owner', fence: '2' }]);
    assert.deepEqual(refused, ['zombie']);
  });
});
