import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Conductor,
  type ConductorEvent,
  createMemoryJobBoard,
  createMemoryRunStore,
  FlowRegistry,
  fetchRun,
  type JobBoard,
  linearFlow,
  MAX_OUTCOME_OUTPUTS_BYTES,
  type RunJournal,
  StorageError,
  task,
} from '../../src/index.ts';
import { withConductor } from '../support/conductors.ts';

interface Harness {
  readonly board: JobBoard;
  readonly runs: ReturnType<typeof createMemoryRunStore>;
  readonly registry: FlowRegistry;
  readonly log: string[];
}

function harness(options: { failing?: boolean; gate?: Promise<void> } = {}): Harness {
  const log: string[] = [];
  const registry = new FlowRegistry().register({
    name: 'order',
    version: '1',
    build: () =>
      linearFlow('order', [
        task({
          name: 'reserve',
          requires: ['item'],
          provides: 'reservation',
          execute: ({ item }: { item: string }) => {
            log.push(`reserve ${item}`);
            return `r-${item}`;
          },
          revert: ({ item }: { item: string }) => void log.push(`unreserve ${item}`),
        }),
        task({
          name: 'charge',
          requires: ['reservation'],
          execute: async ({ reservation }: { reservation: string }) => {
            await options.gate;
            log.push(`charge ${reservation}`);
            if (options.failing) throw new Error('card declined');
          },
        }),
        task({
          name: 'ship',
          requires: ['item'],
          execute: ({ item }: { item: string }) => void log.push(`ship ${item}`),
        }),
      ]),
  });
  return {
    board: createMemoryJobBoard({ recheckMs: 20 }),
    runs: createMemoryRunStore(),
    registry,
    log,
  };
}

/** The journal of `runs` with some of its methods replaced; the others call the store. */
function journalWith(runs: RunJournal, overrides: Partial<RunJournal>): RunJournal {
  return {
    ensureFlow: (book, detail) => runs.ensureFlow(book, detail),
    openRun: (request) => runs.openRun(request),
    loadRun: (flowId) => runs.loadRun(flowId),
    saveFlow: (detail, lease) => runs.saveFlow(detail, lease),
    saveAtoms: (flowId, details, lease, options) => runs.saveAtoms(flowId, details, lease, options),
    acquireLease: (flowId, owner, ttlMs, options) =>
      runs.acquireLease(flowId, owner, ttlMs, options),
    renewLease: (lease, ttlMs) => runs.renewLease(lease, ttlMs),
    releaseLease: (lease) => runs.releaseLease(lease),
    ...overrides,
  };
}

const spec = (item: string) => ({
  name: `order-${item}`,
  flow: { name: 'order', version: '1' },
  store: { item },
});

describe('conductor', () => {
  test('claims jobs, runs their flows durably and consumes them with their outcome', async () => {
    const h = harness();
    const jobs = await Promise.all(['a', 'b', 'c'].map((item) => h.board.post(spec(item))));
    const done = await withConductor(
      {
        board: h.board,
        runs: h.runs,
        registry: h.registry,
        concurrency: 2,
      },
      () => Promise.all(jobs.map((job) => h.board.wait(job.id, { timeoutMs: 5_000 }))),
    );
    assert.deepEqual(
      done.map((job) => [job.state, job.outcome?.state]),
      [
        ['COMPLETE', 'SUCCESS'],
        ['COMPLETE', 'SUCCESS'],
        ['COMPLETE', 'SUCCESS'],
      ],
    );
    assert.equal((await h.runs.loadRun(jobs[0]?.id ?? ''))?.flow.state, 'SUCCESS');
    assert.deepEqual(
      done.map((job) => job.outcome?.outputs),
      [{ reservation: 'r-a' }, { reservation: 'r-b' }, { reservation: 'r-c' }],
      "a job's outcome carries its flow's outputs",
    );
    assert.deepEqual(h.log.filter((line) => line.startsWith('charge')).sort(), [
      'charge r-a',
      'charge r-b',
      'charge r-c',
    ]);
    assert.equal(h.log.filter((line) => line.startsWith('ship')).length, 3);
    assert.deepEqual(await h.board.listConductors(), [], 'a stopped conductor unregisters');
  });

  test('a flow that reverts completes its job as REVERTED with the failure', async () => {
    const h = harness({ failing: true });
    const job = await h.board.post(spec('x'));
    const done = await withConductor(
      {
        board: h.board,
        runs: h.runs,
        registry: h.registry,
      },
      () => h.board.wait(job.id, { timeoutMs: 5_000 }),
    );
    assert.equal(done.outcome?.state, 'REVERTED');
    assert.equal(done.outcome?.failure?.message, 'card declined');
    assert.deepEqual(h.log, ['reserve x', 'charge r-x', 'unreserve x']);
  });

  test('a job whose flow is not registered goes to dead-letter at once with the reason', async () => {
    const h = harness();
    const job = await h.board.post({ name: 'mystery', flow: { name: 'unknown', version: '1' } });
    const done = await withConductor(
      {
        board: h.board,
        runs: h.runs,
        registry: h.registry,
      },
      () => h.board.wait(job.id, { timeoutMs: 5_000 }),
    );
    assert.equal(done.state, 'DEAD_LETTER');
    assert.match(done.deadLetterReason ?? '', /No flow factory named "unknown"/);
  });

  test('an infrastructure error abandons the job for another attempt, and dead-letters it after maxAttempts', async () => {
    const h = harness();
    const broken = journalWith(h.runs, {
      saveAtoms: () => Promise.reject(new StorageError('STORAGE_CORRUPT', 'disk says no')),
    });
    const job = await h.board.post(spec('y'));
    const events: ConductorEvent[] = [];
    const done = await withConductor(
      {
        board: h.board,
        runs: broken,
        registry: h.registry,
        maxAttempts: 3,
        onEvent: (event) => events.push(event),
      },
      () => h.board.wait(job.id, { timeoutMs: 5_000 }),
    );
    assert.equal(done.state, 'DEAD_LETTER');
    assert.equal(done.attempts, 3);
    assert.match(done.deadLetterReason ?? '', /disk says no/);
    assert.equal(events.filter((event) => event.type === 'abandoned').length, 3);
  });

  test('a stop while the run of a claimed job is being opened hands the job back without running a task', async () => {
    const h = harness();
    let opening: () => void = () => undefined;
    const opened = new Promise<void>((resolve) => {
      opening = resolve;
    });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = journalWith(h.runs, {
      openRun: async (request) => {
        opening();
        await held;
        return h.runs.openRun(request);
      },
      releaseLease: h.runs.releaseLease.bind(h.runs),
    });
    const job = await h.board.post(spec('s'));
    const conductor = new Conductor({ board: h.board, runs: slow, registry: h.registry });
    const running = conductor.run();
    await opened;
    const stopping = conductor.stop();
    release();
    await stopping;
    await running;
    assert.deepEqual(h.log, [], 'no task ran');
    const after = await h.board.get(job.id);
    assert.equal(after?.state, 'UNCLAIMED');
    assert.equal(after?.attempts, 0, 'a stop is not a failed attempt');
    assert.equal((await h.runs.loadRun(job.id))?.flow.state, 'SUSPENDED');
  });

  test('a job is completed only once the end of its run is stored: a failed last write gives it back', async () => {
    const h = harness({ failing: true });
    let failed = 0;
    const flaky = journalWith(h.runs, {
      saveAtoms: (flowId, details, lease, options) => {
        if (options?.flow?.state === 'REVERTED' && failed++ === 0) {
          return Promise.reject(new StorageError('STORAGE_CORRUPT', 'the last write is lost'));
        }
        return h.runs.saveAtoms(flowId, details, lease, options);
      },
    });
    const job = await h.board.post(spec('z'));
    const done = await withConductor(
      { board: h.board, runs: flaky, registry: h.registry, maxAttempts: 3 },
      () => h.board.wait(job.id, { timeoutMs: 5_000 }),
    );
    assert.equal(failed, 2, 'the end was written again by the next attempt');
    assert.equal(done.outcome?.state, 'REVERTED');
    assert.equal(done.attempts, 1, 'the lost write counted as one failed attempt');
    assert.equal((await h.runs.loadRun(job.id))?.flow.state, 'REVERTED', 'board and store agree');
  });

  test('a graceful stop suspends running engines and gives the jobs back; another conductor resumes them', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const h = harness({ gate });
    const job = await h.board.post(spec('z'));
    const first = new Conductor({
      board: h.board,
      runs: h.runs,
      registry: h.registry,
      claimWaitMs: 20,
    });
    const firstRun = first.run();
    while (!h.log.includes('reserve z')) await new Promise((resolve) => setTimeout(resolve, 5));
    const stopping = first.stop();
    open();
    await stopping;
    await firstRun;
    const afterStop = await h.board.get(job.id);
    assert.equal(afterStop?.state, 'UNCLAIMED', 'the job is back on the board at once');
    assert.equal(afterStop?.attempts, 0, 'a stop on purpose is not a failed attempt');
    const second = new Conductor({
      board: h.board,
      runs: h.runs,
      registry: h.registry,
      claimWaitMs: 20,
    });
    const secondRun = second.run();
    const done = await h.board.wait(job.id, { timeoutMs: 5_000 });
    await second.stop();
    await secondRun;
    assert.equal(done.outcome?.state, 'SUCCESS');
    assert.deepEqual(
      h.log,
      ['reserve z', 'charge r-z', 'ship z'],
      'the resumed run does not redo finished work',
    );
  });

  test('a conductor that loses its claim suspends that engine and leaves the job to the new owner', async () => {
    let now = 1_000_000;
    const board = createMemoryJobBoard({ now: () => now, recheckMs: 20 });
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const h = { ...harness({ gate }), board };
    const job = await board.post(spec('w'));
    const events: ConductorEvent[] = [];
    const first = new Conductor({
      board,
      runs: h.runs,
      registry: h.registry,
      leaseTtlMs: 60,
      claimWaitMs: 20,
      onEvent: (event) => events.push(event),
    });
    const firstRun = first.run();
    while (!h.log.includes('reserve w')) await new Promise((resolve) => setTimeout(resolve, 5));
    now += 10_000; // the claim expires on the board's clock; a rival takes the job over
    const rival = await board.claim({ owner: 'rival', ttlMs: 60_000 });
    assert.equal(rival?.job.id, job.id);
    while (!events.some((event) => event.type === 'lost'))
      await new Promise((resolve) => setTimeout(resolve, 5));
    open();
    await first.stop();
    await firstRun;
    assert.equal((await board.get(job.id))?.owner, 'rival');
    assert.ok(
      !h.log.includes('ship w'),
      'the engine stopped at once: nothing after the atom in flight ran',
    );
  });
});

describe('job outcomes', () => {
  test('outputs too large for the board are left in the run store, with a reference', async () => {
    const big = 'x'.repeat(MAX_OUTCOME_OUTPUTS_BYTES);
    const registry = new FlowRegistry().register({
      name: 'big',
      version: '1',
      build: () =>
        linearFlow('big', [task({ name: 'make', provides: 'blob', execute: () => big })]),
    });
    const board = createMemoryJobBoard({ recheckMs: 20 });
    const runs = createMemoryRunStore();
    const job = await board.post({ name: 'big', flow: { name: 'big', version: '1' } });
    const done = await withConductor({ board, runs, registry }, () =>
      board.wait(job.id, { timeoutMs: 5_000 }),
    );
    assert.equal(done.outcome?.outputs, undefined);
    assert.equal(done.outcome?.outputsRef?.runId, job.id);
    assert.ok((done.outcome?.outputsRef?.bytes ?? 0) > MAX_OUTCOME_OUTPUTS_BYTES);
    const values = await fetchRun({ runs, registry, flowId: job.id });
    assert.equal(values.fetch('blob'), big);
  });
});
