import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openRunStore } from '../../src/index.ts';

const CHILD = fileURLToPath(new URL('./fixtures/signal-child.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'taskflow-signals-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} suspends a plain persisted engine, releases its lease and lets the process exit`, async () => {
    const url = `sqlite://${join(dir, `${signal}.db`)}`;
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, STORE_URL: url, FLOW_ID: 'run-1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const started = new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('started\n')) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await started;
    child.kill(signal);
    const code = await exited;
    assert.equal(code, 0, stderr);
    const last = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      state: string;
      atoms: string[];
    };
    assert.deepEqual(last, { state: 'SUSPENDED', atoms: ['SUCCESS', 'PENDING'] });
    const runs = await openRunStore(url);
    try {
      assert.equal((await runs.readLease('run-1'))?.owner, null, 'the lease was released');
      // So another engine can take it at once, not after the 60 s TTL.
      const lease = await runs.acquireLease('run-1', 'next', 1_000);
      assert.equal(lease.owner, 'next');
    } finally {
      await runs.close();
    }
  });
}
