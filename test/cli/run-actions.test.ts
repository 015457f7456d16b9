import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { auditList, Conductor, type Job, openJobBoard, openRunStore } from '../../src/index.ts';
import { taskflow, tempDir } from './cli-harness.ts';
import { registry } from './fixtures/registry.ts';

const dir = tempDir('taskflow-cli-run-actions-');
after(() => dir.remove());

test('an operator finishes a stuck revert and redrives the run from the command line, with a conductor doing the work', async () => {
  const env = {
    TASKFLOW_BOARD: `sqlite://${join(dir.path, 'jobs.db')}`,
    TASKFLOW_RUNS: `sqlite://${join(dir.path, 'runs.db')}`,
    TASKFLOW_OPERATOR: 'ops-on-call',
  };
  const board = await openJobBoard(env.TASKFLOW_BOARD);
  const runs = await openRunStore(env.TASKFLOW_RUNS);
  const conductor = new Conductor({ name: 'conductor-a', board, runs, registry, claimWaitMs: 20 });
  const running = conductor.run();
  const settled = async (id: string): Promise<Job> => {
    for (;;) {
      const job = await board.wait(id, { timeoutMs: 20_000 });
      if (job.request === null) return job;
    }
  };
  try {
    const job = await board.post({ name: 'stuck-1', flow: { name: 'stuck', version: '1' } });
    assert.equal((await settled(job.id)).outcome?.state, 'FAILURE', 'lock cannot be undone');

    const wrongState = await taskflow(['runs', 'suspend', job.id], { env });
    assert.equal(wrongState.code, 1);
    assert.match(
      wrongState.stderr,
      /is FAILURE; "suspend" applies to a run that is PENDING or RUNNING or RESUMING/,
    );
    const noResult = await taskflow(['runs', 'resolve', job.id, 'lock'], { env });
    assert.equal(noResult.code, 2);
    assert.match(noResult.stderr, /needs --result JSON/);

    const skipped = await taskflow(
      ['runs', 'skip-revert', job.id, 'lock', '--reason', 'unlocked by hand'],
      { env },
    );
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(
      skipped.stdout,
      /Asked "skip-revert" of atom lock of run .*; the next conductor to claim its job applies it\./,
    );
    assert.equal((await settled(job.id)).outcome?.state, 'REVERTED');

    const redriven = await taskflow(['runs', 'redrive', job.id, '--json', '--by', 'alice'], {
      env,
    });
    assert.equal(redriven.code, 0, redriven.stderr);
    const asked = JSON.parse(redriven.stdout);
    assert.deepEqual(
      [asked.action.action, asked.action.by, asked.job.state],
      ['redrive', 'alice', 'UNCLAIMED'],
    );
    assert.equal((await settled(job.id)).outcome?.state, 'FAILURE', 'the same revert fails again');

    const shown = await taskflow(['runs', 'show', job.id], { env });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /ops-on-call\s+skip-revert\s+lock\s+.*unlocked by hand/);
    assert.match(shown.stdout, /alice\s+redrive\s+-\s+/);
    const run = await runs.loadRun(job.id);
    assert.deepEqual(
      auditList(run?.flow ?? { meta: {} }).map((entry) => [
        entry.action,
        entry.by,
        entry.reason ?? null,
      ]),
      [
        ['skip-revert', 'ops-on-call', 'unlocked by hand'],
        ['redrive', 'alice', null],
      ],
    );
  } finally {
    await conductor.stop();
    await running;
    await board.close();
    await runs.close();
  }
});
