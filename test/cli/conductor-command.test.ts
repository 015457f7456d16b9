import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openJobBoard } from '../../src/index.ts';
import { taskflow, tempDir } from './cli-harness.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const registryModule = fileURLToPath(new URL('./fixtures/registry.ts', import.meta.url));
const dir = tempDir('taskflow-cli-conductor-command-');
after(() => dir.remove());

test('"taskflow conductor" runs posted jobs until SIGTERM, then stops cleanly with status 0', async () => {
  const board = `sqlite://${join(dir.path, 'jobs.db')}`;
  const store = `sqlite://${join(dir.path, 'runs.db')}`;
  const child = spawn(
    process.execPath,
    [
      '--import',
      TSX,
      MAIN,
      'conductor',
      '--flows',
      registryModule,
      '--store',
      store,
      '--board',
      board,
      '--concurrency',
      '2',
      '--name',
      'cli-conductor',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    const jobs = await openJobBoard(board);
    try {
      const job = await jobs.post({ name: 'boot-1', flow: { name: 'provision', version: '2' } });
      const done = await jobs.wait(job.id, { timeoutMs: 30_000 });
      assert.equal(done.state, 'COMPLETE', stderr);
      assert.equal(done.outcome?.state, 'SUCCESS');
      assert.equal(done.owner, 'cli-conductor');
      assert.deepEqual(
        (await jobs.listConductors()).map((c) => c.name),
        ['cli-conductor'],
      );
    } finally {
      await jobs.close();
    }
  } finally {
    child.kill('SIGTERM');
  }
  const { code, signal } = await exited;
  assert.equal(signal, null, stderr);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^Conductor cli-conductor is running 2 job\(s\) at a time/m);
  assert.match(stdout, /completed job \S+ \(boot-1\): SUCCESS$/m);
  assert.match(stdout, /stopped$/m);
  // Not a terminal: plain log lines, no status line and not one escape sequence.
  assert.ok(!stdout.includes('\u001b'), stdout);
  assert.doesNotMatch(stdout, /running \d+ · completed/);
  // It unregistered itself on the way out.
  const live = await taskflow(['jobs', 'conductors', '--board', board]);
  assert.equal(live.stdout, 'No live conductors.\n');
  const run = await taskflow(['runs', 'list', '--store', store]);
  assert.match(run.stdout, /provision\s+SUCCESS/);
});

test('"taskflow conductor" without --registry exits 2, and --help shows its options', async () => {
  const missing = await taskflow(['conductor', '--board', 'memory://']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /needs --flows MODULE/);
  const help = await taskflow(['conductor', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: taskflow conductor \[OPTIONS\]$/m);
  assert.match(help.stdout, /--concurrency N/);
});
