import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  auditList,
  FlowRegistry,
  isJobBoardError,
  type Job,
  type JobBoard,
  linearFlow,
  operatorRequest,
  type RunJournal,
  requestRunAction,
  StateError,
  task,
} from '../../src/index.ts';
import { createSqliteJobBoard } from '../../src/jobs/sqlite/sqlite-job-board.ts';
import { createSqliteRunStore } from '../../src/persistence/sqlite/sqlite-run-store.ts';
import { withConductor } from '../support/conductors.ts';

// An operator steers runs that a conductor runs: the request goes to the board, the conductor
// holding the job applies it, and the run's audit list records it. The board and run store
// are one real SQLite file, as `taskflow serve` uses by default.

const dir = mkdtempSync(join(tmpdir(), 'run-actions-'));
const opened: { close(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(opened.map((thing) => thing.close()));
});

interface Gate {
  readonly wait: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open = (): void => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/** A flow: reserve, then a step that waits for the test, then ship; each logs what it does. */
function setup(name: string, options: { shipFails?: number; unreserveFails?: number } = {}) {
  const path = join(dir, `${name}.db`);
  const board = createSqliteJobBoard({ path, pollMs: 10 });
  const runs = createSqliteRunStore({ path });
  opened.push(board, runs);
  const log: string[] = [];
  let step = gate();
  let shipFails = options.shipFails ?? 0;
  let unreserveFails = options.unreserveFails ?? 0;
  const registry = new FlowRegistry().register({
    name: 'order',
    version: '1',
    build: () =>
      linearFlow('order', [
        task({
          name: 'reserve',
          execute: () => void log.push('reserve'),
          revert: () => {
            log.push('unreserve');
            if (unreserveFails-- > 0) throw new Error('warehouse API down');
          },
        }),
        task({
          name: 'wait',
          execute: async () => {
            log.push('wait');
            await step.wait;
          },
          revert: () => void log.push('unwait'),
        }),
        task({
          name: 'ship',
          execute: () => {
            log.push('ship');
            if (shipFails-- > 0) throw new Error('carrier refused');
          },
          revert: () => void log.push('unship'),
        }),
      ]),
  });
  return {
    board,
    runs,
    registry,
    log,
    release: () => step.open(),
    regate: () => {
      step = gate();
    },
  };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > 10_000) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function post(board: JobBoard): Promise<Job> {
  return board.post({ name: 'order', flow: { name: 'order', version: '1' } });
}

async function finished(board: JobBoard, id: string): Promise<Job> {
  let job: Job | undefined;
  await until(async () => {
    job = await board.get(id);
    return job?.state === 'COMPLETE';
  }, `job ${id} to complete`);
  return job as Job;
}

async function audit(runs: RunJournal, id: string): Promise<string[]> {
  const run = await runs.loadRun(id);
  return auditList(run?.flow ?? { meta: {} }).map(
    (entry) => `${entry.action} by ${entry.by}${entry.refused ? ' refused' : ''}`,
  );
}

describe('operator actions through the board', () => {
  test('suspend parks a running run with its job complete; resume reopens the job and the run finishes', async () => {
    const h = setup('suspend');
    await withConductor(
      { board: h.board, runs: h.runs, registry: h.registry, leaseTtlMs: 60_000 },
      async () => {
        const job = await post(h.board);
        await until(() => h.log.includes('wait'), 'the wait step');
        const requested = await requestRunAction(
          h,
          job.id,
          operatorRequest('suspend', { by: 'alice' }),
        );
        assert.equal(requested.request?.action, 'suspend');
        await until(
          async () => (await h.runs.loadRun(job.id))?.flow.state === 'SUSPENDING',
          'the run to be SUSPENDING',
        );
        assert.deepEqual(await audit(h.runs, job.id), ['suspend by alice']);
        h.release();
        const parked = await finished(h.board, job.id);
        assert.deepEqual([parked.outcome, parked.request], [{ state: 'SUSPENDED' }, null]);
        assert.equal((await h.runs.loadRun(job.id))?.flow.state, 'SUSPENDED');
        assert.deepEqual(h.log, ['reserve', 'wait'], 'ship did not start');

        await assert.rejects(
          requestRunAction(h, job.id, operatorRequest('suspend', { by: 'alice' })),
          (error: unknown) =>
            error instanceof StateError &&
            /is SUSPENDED; "suspend" applies to a run that is PENDING or RUNNING or RESUMING/.test(
              error.message,
            ),
        );
        const reopened = await requestRunAction(
          h,
          job.id,
          operatorRequest('resume', { by: 'bob' }),
        );
        assert.equal(reopened.state, 'UNCLAIMED');
        const done = await finished(h.board, job.id);
        assert.equal(done.outcome?.state, 'SUCCESS');
        assert.deepEqual(h.log, ['reserve', 'wait', 'ship']);
        assert.deepEqual(await audit(h.runs, job.id), ['suspend by alice', 'resume by bob']);
      },
    );
  });

  test('cancel reverts a running run and completes its job REVERTED with the cancel', async () => {
    const h = setup('cancel');
    await withConductor(
      { board: h.board, runs: h.runs, registry: h.registry, leaseTtlMs: 60_000 },
      async () => {
        const job = await post(h.board);
        await until(() => h.log.includes('wait'), 'the wait step');
        await requestRunAction(
          h,
          job.id,
          operatorRequest('cancel', { by: 'carol', reason: 'dup' }),
        );
        await until(async () => (await audit(h.runs, job.id)).length === 1, 'the cancel to apply');
        h.release();
        const done = await finished(h.board, job.id);
        assert.equal(done.outcome?.state, 'REVERTED');
        assert.match(done.outcome?.failure?.message ?? '', /cancelled by "carol": dup/);
        assert.deepEqual(h.log, ['reserve', 'wait', 'unwait', 'unreserve']);
        assert.deepEqual(await audit(h.runs, job.id), ['cancel by carol']);
      },
    );
  });

  test('redrive runs a REVERTED run again; retry-revert finishes a failed revert', async () => {
    const h = setup('redrive', { shipFails: 1, unreserveFails: 1 });
    await withConductor(
      { board: h.board, runs: h.runs, registry: h.registry, leaseTtlMs: 60_000 },
      async () => {
        h.release();
        const job = await post(h.board);
        const failed = await finished(h.board, job.id);
        assert.equal(failed.outcome?.state, 'FAILURE', 'unreserve failed, so the run is stuck');
        await assert.rejects(
          requestRunAction(h, job.id, operatorRequest('retry-revert', { by: 'dan', atom: 'wait' })),
          /Atom "wait" is REVERTED; "retry-revert" applies to an atom in REVERT_FAILURE/,
        );
        await requestRunAction(
          h,
          job.id,
          operatorRequest('retry-revert', { by: 'dan', atom: 'reserve' }),
        );
        const reverted = await finished(h.board, job.id);
        assert.equal(reverted.outcome?.state, 'REVERTED');
        assert.deepEqual(h.log, [
          'reserve',
          'wait',
          'ship',
          'unship',
          'unwait',
          'unreserve',
          'unreserve',
        ]);

        h.log.length = 0;
        await requestRunAction(h, job.id, operatorRequest('redrive', { by: 'erin' }));
        const redriven = await finished(h.board, job.id);
        assert.equal(redriven.outcome?.state, 'SUCCESS');
        assert.deepEqual(h.log, ['reserve', 'wait', 'ship']);
        assert.deepEqual(await audit(h.runs, job.id), ['retry-revert by dan', 'redrive by erin']);
        await assert.rejects(
          requestRunAction(h, job.id, operatorRequest('redrive', { by: 'erin' })),
          /is SUCCESS; "redrive" applies to a run that is REVERTED or FAILURE/,
        );
      },
    );
  });

  test('one request at a time: a second one while the first is pending is refused, naming it', async () => {
    const h = setup('pending');
    const job = await post(h.board);
    await requestRunAction(h, job.id, operatorRequest('suspend', { by: 'frank' }));
    await assert.rejects(
      requestRunAction(h, job.id, operatorRequest('cancel', { by: 'grace' })),
      (error: unknown) =>
        isJobBoardError(error, 'REQUEST_REFUSED') &&
        /"suspend" asked by "frank" .* is still pending/.test(error.message),
    );
    await assert.rejects(
      requestRunAction(h, 'nope', operatorRequest('cancel', { by: 'grace' })),
      /No run has id "nope"/,
    );
    await withConductor({ board: h.board, runs: h.runs, registry: h.registry }, async () => {
      const parked = await finished(h.board, job.id);
      assert.equal(
        parked.outcome?.state,
        'SUSPENDED',
        'a job suspended before it ran parks at once',
      );
      assert.deepEqual(h.log, []);
    });
  });
});
