import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Conductor, type Job, openJobBoard, openRunStore } from '../../src/index.ts';
import { taskflow, tempDir } from './cli-harness.ts';
import { registry } from './fixtures/registry.ts';

const dir = tempDir('taskflow-cli-conductor-');
after(() => dir.remove());

test('a job posted with the CLI is run by a conductor, and the CLI shows its outcome and its run', async () => {
  const env = {
    TASKFLOW_BOARD: `sqlite://${join(dir.path, 'jobs.db')}`,
    TASKFLOW_STORE: `sqlite://${join(dir.path, 'runs.db')}`,
  };
  const registryModule = fileURLToPath(new URL('./fixtures/registry.ts', import.meta.url));
  const posted = await taskflow(
    [
      'jobs',
      'post',
      '--name',
      'boot-1',
      '--flow',
      'provision',
      '--flows',
      registryModule,
      '--json',
    ],
    { env },
  );
  assert.equal(posted.code, 0, posted.stderr);
  const job = JSON.parse(posted.stdout) as Job;

  const board = await openJobBoard(env.TASKFLOW_BOARD);
  const runs = await openRunStore(env.TASKFLOW_STORE);
  const conductor = new Conductor({ name: 'conductor-a', board, runs, registry });
  const running = conductor.run();
  try {
    assert.equal((await board.wait(job.id, { timeoutMs: 20_000 })).state, 'COMPLETE');
  } finally {
    await conductor.stop();
    await running;
    await board.close();
    await runs.close();
  }

  const shown = await taskflow(['jobs', 'show', job.id], { env });
  assert.match(shown.stdout, /^state:\s+COMPLETE$/m);
  assert.match(shown.stdout, /^outcome:\s+SUCCESS$/m);
  assert.match(shown.stdout, /^owner:\s+conductor-a$/m);
  // The conductor runs each job's flow under the job's id.
  const run = await taskflow(['runs', 'show', job.id], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^state:\s+SUCCESS$/m);
  assert.match(run.stdout, /^factory:\s+provision@2$/m);
  assert.match(run.stdout, /^boot\s+task\s+SUCCESS\s+EXECUTE\s+1\s+\{"done":"boot"\}$/m);
});
