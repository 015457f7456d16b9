import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  type AtomDetail,
  Engine,
  type EngineEvent,
  isStorageError,
  type RunStore,
} from '../../src/index.ts';
import {
  type FaultedRun,
  faulty,
  openTestStore,
  runThroughFaults,
  slowFlow,
  TASKS,
  type TestStore,
  terminateConnections,
} from '../fixtures/postgres-faults.ts';
import { POSTGRES_URL, postgresUnavailable, TestSchemas } from '../persistence/postgres-fixture.ts';

// Faults in the PostgreSQL backend while a durable run executes (issue #3, "Faults in the
// backend"). Only this test's own connections are ever terminated: each store's pool carries an
// application_name of its own, and the server itself is never stopped (other tests share it).

const CHILD = fileURLToPath(new URL('../fixtures/postgres-faults.ts', import.meta.url));
const unavailable = await postgresUnavailable();
const schemas = new TestSchemas();

let admin: pg.Client;
before(async () => {
  if (unavailable) return;
  admin = new pg.Client({ connectionString: POSTGRES_URL, application_name: 'tf_faults_admin' });
  await admin.connect();
});
after(async () => {
  if (unavailable) return;
  await admin.end();
  await schemas.dropAll();
});

const openStore = (): Promise<TestStore> => openTestStore(POSTGRES_URL, schemas.next());
const byName = (atoms: readonly AtomDetail[]) => new Map(atoms.map((atom) => [atom.name, atom]));

function timesRun(ran: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of ran) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/** Every atom is stored SUCCESS once, with its result, and at most one task ran twice. */
function assertCompleted(run: Pick<FaultedRun, 'flowState' | 'atoms' | 'ran'>): void {
  assert.equal(run.flowState, 'SUCCESS');
  assert.equal(run.atoms.length, TASKS, 'one stored atom detail per atom');
  const stored = byName(run.atoms);
  for (let i = 0; i < TASKS; i++) {
    assert.equal(stored.get(`t${i}`)?.state, 'SUCCESS', `t${i} is stored SUCCESS`);
    assert.equal(stored.get(`t${i}`)?.result, i, `t${i} result`);
  }
  const counts = timesRun(run.ran);
  const twice = [...counts].filter(([, count]) => count > 1);
  assert.equal(counts.size, TASKS, 'every task ran');
  assert.ok(twice.length <= 1, `tasks run more than once: ${JSON.stringify(twice)}`);
}

function runChild(schema: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CHILD, POSTGRES_URL, schema],
      { timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('PostgreSQL faults during a durable run', { skip: unavailable || false }, () => {
  test('connections terminated while a task runs are replaced and the run succeeds, each atom persisted once', async () => {
    const store = await openStore();
    try {
      const run = await runThroughFaults(store, ['t3', 't10', 't15'], () =>
        terminateConnections(admin, store.app),
      );
      assert.equal(run.state, 'SUCCESS');
      assertCompleted(run);
      assert.ok(
        run.terminated.every((count) => count > 0),
        `every fault terminated a connection: ${run.terminated}`,
      );
    } finally {
      await store.storage.close();
    }
  });

  test('a connection terminated in the middle of an atom write is retried and the run succeeds', async () => {
    // In a child process: with that bug the fault kills the whole process.
    const { code, stdout, stderr } = await runChild(schemas.next());
    assert.equal(code, 0, `the run's process died: ${stderr}`);
    const run = JSON.parse(stdout) as FaultedRun;
    assert.equal(run.state, 'SUCCESS');
    assertCompleted(run);
    assert.ok(
      run.terminated.every((count) => count > 0),
      `terminated: ${run.terminated}`,
    );
    assert.ok(run.unavailable >= 2, `writes failed ${run.unavailable} times, wanted ≥ 2`);
  });

  describe('a write fault that outlasts the retries', () => {
    const flowId = 'outlasted';
    const ran: string[] = [];
    const successEvents: string[] = [];
    let storage: RunStore;
    let engine: Engine;
    let error: unknown;
    let stats: { unavailable: number; failing: boolean };

    before(async () => {
      ({ storage } = await openStore());
      const wrapped = faulty(storage);
      stats = wrapped.stats;
      engine = new Engine(slowFlow(ran), { persistence: { store: wrapped.store, flowId } });
      engine.subscribe((event: EngineEvent) => {
        if (event.type !== 'atom' || event.to !== 'SUCCESS') return;
        successEvents.push(event.atom);
        // From here on every atom write fails, far longer than the engine keeps retrying.
        if (event.atom === 't5') stats.failing = true;
      });
      await engine.run().then(
        () => assert.fail('run() should reject while every write fails'),
        (e: unknown) => {
          error = e;
        },
      );
    });
    after(() => storage.close());

    test('run() rejects with the retryable storage error after a bounded number of attempts', () => {
      assert.ok(isStorageError(error, 'STORAGE_UNAVAILABLE'), `got ${String(error)}`);
      assert.match((error as Error).message, /unavailable/i);
      assert.ok(stats.unavailable > 1, `the write was retried (${stats.unavailable} attempts)`);
      assert.ok(stats.unavailable < 20, `the retries are bounded (${stats.unavailable} attempts)`);
      // The t5 SUCCESS event is published once t5's result and t6's intention are written; the
      // first write that fails is t6's result with t7's intention, so t7 never starts.
      assert.equal(ran.includes('t6'), true, 't6 ran: its intention was persisted');
      assert.equal(ran.includes('t7'), false, 't7 never ran: its intention was not persisted');
    });

    test('no atom is reported SUCCESS, by events or engine.atom(), that the store does not have', async () => {
      const stored = byName((await storage.loadRun(flowId))?.atoms ?? []);
      const inMemory = engine
        .atoms()
        .filter((atom) => atom.state === 'SUCCESS')
        .map((atom) => atom.name);
      for (const name of new Set([...successEvents, ...inMemory])) {
        const state = stored.get(name)?.state;
        assert.equal(state, 'SUCCESS', `${name} was reported SUCCESS but is stored ${state}`);
      }
    });

    test('a new engine on a healthy store resumes the run to SUCCESS, rerunning only the atom in flight', async () => {
      const resumed = new Engine(slowFlow(ran), { persistence: { store: storage, flowId } });
      assert.equal((await resumed.run()).state, 'SUCCESS');
      const run = await storage.loadRun(flowId);
      assertCompleted({ flowState: run?.flow.state, atoms: run?.atoms ?? [], ran });
    });
  });
});
