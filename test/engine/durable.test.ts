import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createMemoryRunStore,
  Engine,
  FlowRegistry,
  isStorageError,
  linearFlow,
  resumeRun,
  startRun,
  Times,
  task,
  unorderedFlow,
} from '../../src/index.ts';
import { type CallLog, recording } from '../support/tasks.ts';

const persisted = (store: ReturnType<typeof createMemoryRunStore>, flowId: string) => ({
  persistence: { store, flowId },
});

describe('durable runs', () => {
  test('every state change is persisted, results and the final flow state included', async () => {
    const store = createMemoryRunStore();
    const log: CallLog = [];
    const flow = linearFlow('f', [
      recording('a', log, { provides: 'x', result: 1 }),
      recording('b', log),
    ]);
    await new Engine(flow, persisted(store, 'run-1')).run();
    const run = await store.loadRun('run-1');
    assert.equal(run?.flow.state, 'SUCCESS');
    const atoms = Object.fromEntries((run?.atoms ?? []).map((atom) => [atom.name, atom]));
    assert.equal(atoms.a?.state, 'SUCCESS');
    assert.equal(atoms.a?.result, 1);
    assert.equal(atoms.a?.attempts, 1);
    assert.equal(atoms.b?.state, 'SUCCESS');
  });

  test('a run suspended in one engine continues in another without rerunning what succeeded', async () => {
    const store = createMemoryRunStore();
    const log: CallLog = [];
    const build = () =>
      linearFlow('f', [
        recording('a', log, { provides: 'x', result: 5 }),
        recording('b', log),
        recording('c', log, { requires: ['x'] }),
      ]);
    const first = new Engine(build(), persisted(store, 'run-2'));
    first.subscribe((event) => {
      if (event.type === 'atom' && event.atom === 'b' && event.to === 'SUCCESS') first.suspend();
    });
    assert.equal((await first.run()).state, 'SUSPENDED');
    assert.equal((await store.loadRun('run-2'))?.flow.state, 'SUSPENDED');
    const second = new Engine(build(), persisted(store, 'run-2'));
    assert.equal((await second.run()).state, 'SUCCESS');
    assert.deepEqual(log, ['a', 'b', 'c']);
  });

  test('an atom found RUNNING after a crash runs again with the next attempt number; SUCCESS atoms feed it', async () => {
    let now = 1_000;
    const store = createMemoryRunStore({ now: () => now });
    const seen: string[] = [];
    const build = () =>
      linearFlow('f', [
        task({ name: 'a', provides: 'x', execute: () => seen.push('a') && 7 }),
        task({
          name: 'b',
          requires: ['x'],
          execute: ({ x }: { x: number }, { attempt, idempotencyKey }) =>
            void seen.push(`b x=${x} attempt=${attempt} key=${idempotencyKey}`),
        }),
      ]);
    // Simulate the crash: the first engine dies while b runs (its RUNNING intention is on disk).
    const crashed = new Engine(
      linearFlow('f', [
        task({ name: 'a', provides: 'x', execute: () => 7 }),
        task({ name: 'b', requires: ['x'], execute: () => new Promise(() => undefined) }),
      ]),
      persisted(store, 'run-3'),
    );
    void crashed.run();
    await waitFor(async () =>
      (await store.loadRun('run-3'))?.atoms.some(
        (atom) => atom.name === 'b' && atom.state === 'RUNNING',
      ),
    );
    const resumed = new Engine(build(), persisted(store, 'run-3'));
    await assert.rejects(resumed.run(), (error: unknown) => isStorageError(error, 'LEASE_HELD'));
    now += 31_000; // the dead engine's lease expires
    await resumed.run();
    assert.deepEqual(seen, ['b x=7 attempt=2 key=run-3:b']);
  });

  test('a run that was reverting finishes reverting in a new engine', async () => {
    const store = createMemoryRunStore();
    const log: CallLog = [];
    const build = () =>
      linearFlow('f', [
        recording('a', log),
        recording('b', log),
        recording('fail', log, { fail: true }),
      ]);
    const first = new Engine(build(), persisted(store, 'run-4'));
    first.subscribe((event) => {
      if (event.type === 'atom' && event.atom === 'b' && event.to === 'REVERTED') first.suspend();
    });
    assert.equal((await first.run()).state, 'SUSPENDED');
    const second = new Engine(build(), persisted(store, 'run-4'));
    await assert.rejects(second.run(), /Woot from fail/);
    assert.deepEqual(log, ['a', 'b', 'fail', 'fail~', 'b~', 'a~']);
    assert.equal((await store.loadRun('run-4'))?.flow.state, 'REVERTED');
  });

  test('a retry resumed mid-attempt keeps its history', async () => {
    const store = createMemoryRunStore();
    let calls = 0;
    const build = () =>
      linearFlow(
        'f',
        [
          task({
            name: 'flaky',
            execute: () => {
              calls++;
              if (calls < 3) throw new Error(`attempt ${calls}`);
            },
          }),
        ],
        { retry: new Times({ name: 'r', attempts: 3, provides: 'n' }) },
      );
    const first = new Engine(build(), persisted(store, 'run-5'));
    first.subscribe((event) => {
      if (event.type === 'atom' && event.atom === 'r' && event.to === 'RETRYING') first.suspend();
    });
    await first.run();
    const second = new Engine(build(), persisted(store, 'run-5'));
    await second.run();
    assert.equal(calls, 3);
    assert.equal(second.atom('r').history.length, 3);
  });

  test('a result that cannot be stored fails its task with the offending path, and is reverted', async () => {
    const store = createMemoryRunStore();
    const flow = linearFlow('f', [
      task({ name: 'dated', provides: 'when', execute: () => ({ items: [{ at: new Date(0) }] }) }),
    ]);
    await assert.rejects(
      new Engine(flow, persisted(store, 'run-6')).run(),
      /Atom "dated" returned a result that cannot be persisted: result\.items\[0\]\.at/,
    );
    const run = await store.loadRun('run-6');
    assert.equal(run?.flow.state, 'REVERTED');
  });

  test('an atom recorded at another version is refused unless the change is allowed', async () => {
    const store = createMemoryRunStore();
    const v1 = linearFlow('f', [
      task({ name: 'a', version: '1', execute: () => 1 }),
      task({ name: 'b', execute: () => 2 }),
    ]);
    const first = new Engine(v1, persisted(store, 'run-7'));
    first.subscribe(
      (event) =>
        event.type === 'atom' && event.atom === 'a' && event.to === 'SUCCESS' && first.suspend(),
    );
    await first.run();
    const v2 = () =>
      linearFlow('f', [
        task({ name: 'a', version: '2', execute: () => 1 }),
        task({ name: 'c', execute: () => 3 }),
      ]);
    await assert.rejects(
      new Engine(v2(), persisted(store, 'run-7')).run(),
      /recorded at version 1 but the flow defines version 2/,
    );
    const allowed = new Engine(v2(), {
      persistence: { store, flowId: 'run-7', allowVersionChange: true },
    });
    await allowed.run();
    assert.equal(allowed.atom('c').state, 'SUCCESS', 'a new atom gets a new detail');
    assert.equal(allowed.atom('a').attempts, 1, 'the succeeded atom is not run again');
  });

  test('startRun and resumeRun rebuild the flow from a registered factory in a fresh engine', async () => {
    const store = createMemoryRunStore();
    const log: CallLog = [];
    const registry = new FlowRegistry().register({
      name: 'provision',
      version: '1',
      build: () =>
        linearFlow('provision', [
          recording('volume', log),
          recording('server', log, { requires: ['size'] }),
        ]),
    });
    const engine = startRun('provision', { size: 10 }, { store, registry, runId: 'order-1' });
    engine.subscribe(
      (event) =>
        event.type === 'atom' &&
        event.atom === 'volume' &&
        event.to === 'SUCCESS' &&
        engine.suspend(),
    );
    await engine.run();
    const { items } = await store.listFlows({ unfinished: true });
    assert.deepEqual(
      items.map((run) => run.id),
      ['order-1'],
    );
    const resumed = await resumeRun({ store, registry, flowId: 'order-1' });
    await resumed.run();
    assert.deepEqual(log, ['volume', 'server']);
    assert.deepEqual((await store.listFlows({ unfinished: true })).items, []);
  });

  test('resuming with a factory version that does not list the old one is a clear error', async () => {
    const store = createMemoryRunStore();
    const old = new FlowRegistry().register({
      name: 'p',
      version: '1',
      build: () => linearFlow('p', [task({ name: 'a', execute: () => 1 })]),
    });
    const engine = startRun('p', {}, { store, registry: old, runId: 'r' });
    engine.subscribe(
      (event) => event.type === 'flow' && event.to === 'RUNNING' && engine.suspend(),
    );
    await engine.run();
    const newer = new FlowRegistry().register({
      name: 'p',
      version: '2',
      build: () => linearFlow('p', []),
    });
    await assert.rejects(
      resumeRun({ store, registry: newer, flowId: 'r' }),
      /version 1, but this process has version 2; list "1" in the factory's "resumes"/,
    );
    await assert.rejects(
      resumeRun({ store, registry: new FlowRegistry(), flowId: 'r' }),
      /No flow factory named "p"/,
    );
  });

  test('a second engine on a run that another engine holds is refused', async () => {
    const store = createMemoryRunStore();
    let release: () => void = () => undefined;
    const slow = linearFlow('f', [
      task({ name: 'a', execute: () => new Promise<void>((resolve) => (release = resolve)) }),
    ]);
    const first = new Engine(slow, persisted(store, 'run-8'));
    const running = first.run();
    await waitFor(async () => (await store.loadRun('run-8'))?.flow.state === 'RUNNING');
    const second = new Engine(
      linearFlow('f', [task({ name: 'a', execute: () => undefined })]),
      persisted(store, 'run-8'),
    );
    await assert.rejects(second.run(), (error: unknown) => isStorageError(error, 'LEASE_HELD'));
    release();
    await running;
  });

  test('concurrent atoms are persisted with their own records', async () => {
    const store = createMemoryRunStore();
    const flow = unorderedFlow(
      'u',
      Array.from({ length: 8 }, (_, i) =>
        task({ name: `t${i}`, provides: `v${i}`, execute: async () => i }),
      ),
    );
    await new Engine(flow, { ...persisted(store, 'run-9'), concurrency: 4 }).run();
    const run = await store.loadRun('run-9');
    assert.deepEqual(
      run?.atoms.map((atom) => [atom.name, atom.state, atom.result]).sort(),
      Array.from({ length: 8 }, (_, i) => [`t${i}`, 'SUCCESS', i]),
    );
  });
  test("a running atom's progress reports are written while it runs, not only at its end", async () => {
    const store = createMemoryRunStore();
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const flow = linearFlow('f', [
      task({
        name: 'long',
        execute: async (_inputs, { progress }) => {
          progress(0.25);
          progress(0.5, { step: 2 });
          await gate;
        },
      }),
    ]);
    const running = new Engine(flow, persisted(store, 'run-progress')).run();
    await waitFor(async () => {
      const atom = (await store.loadRun('run-progress'))?.atoms[0];
      return atom?.state === 'RUNNING' && atom.progress === 0.5;
    });
    release();
    await running;
    const done = (await store.loadRun('run-progress'))?.atoms[0];
    assert.deepEqual([done?.state, done?.progress], ['SUCCESS', 1]);
  });
});

async function waitFor(check: () => Promise<boolean | undefined>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('condition not reached');
}
