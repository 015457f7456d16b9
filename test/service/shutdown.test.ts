import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { registry } from '../../examples/service-flows.ts';
import {
  createSqliteJobBoard,
  createSqliteRunStore,
  openRunChangeFeed,
  type RunChangeFeed,
} from '../../src/index.ts';
import { RECONNECT_HINT_MS, startService } from '../../src/service/index.ts';
import { testServers } from '../support/servers.ts';
import { collectEvents } from './sse-client.ts';

const servers = await testServers('service-shutdown');
const root = fileURLToPath(new URL('../../', import.meta.url));

/** Resolves once the feed shows `atom` of run `runId` RUNNING. */
async function atomRunning(feed: RunChangeFeed, runId: string, atom: string): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const changes = await feed.read({ runId, ...(after === undefined ? {} : { after }) });
    if (changes.some((c) => c.atom === atom && c.state === 'RUNNING')) return;
    after = changes.at(-1)?.id ?? after;
    await feed.wait({ timeoutMs: 1000 });
  }
}

describe('service shutdown', () => {
  it('ends event streams with a retry hint and gives running jobs back without counting an attempt', async () => {
    const path = join(servers.dir, 'runs.db');
    const runs = createSqliteRunStore({ path });
    const board = createSqliteJobBoard({ path: join(servers.dir, 'jobs.db') });
    const feed = await openRunChangeFeed(`sqlite://${path}`);
    let claimed: (jobId: string) => void = () => undefined;
    const claim = new Promise<string>((resolve) => {
      claimed = resolve;
    });
    const service = await startService({
      runs,
      board,
      registry,
      feed,
      auth: 'none',
      conductors: 1,
      onConductorEvent: (_name, event) => {
        if (event.type === 'claimed') claimed(event.job.id);
      },
    });
    try {
      let opened: () => void = () => undefined;
      const open = new Promise<void>((resolve) => {
        opened = resolve;
      });
      const stream = collectEvents(`${service.url}/v1/events`, {}, () => false, opened);
      await open;
      const job = await board.post({
        name: 'slow-report',
        flow: registry.ref('slow-report'),
        store: { steps: 40, stepMs: 20 },
      });
      assert.equal(await claim, job.id);
      await atomRunning(feed, job.id, 'gather-data');
      await service.close();
      const { retries } = await stream;
      assert.deepEqual(retries, [RECONNECT_HINT_MS]);
      const after = await board.get(job.id);
      assert.equal(after?.state, 'UNCLAIMED');
      assert.equal(after?.attempts, 0);
      await assert.rejects(fetch(`${service.url}/healthz`));
    } finally {
      await service.close();
      await feed.close();
      await board.close();
      await runs.close();
    }
  });

  it('"taskflow serve" prints its URL, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'serve',
        '--flows',
        'examples/service-flows.ts',
        '--runs',
        `sqlite://${join(servers.dir, 'cli-runs.db')}`,
        '--board',
        `sqlite://${join(servers.dir, 'cli-jobs.db')}`,
        '--port',
        '0',
        '--no-auth',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        const line = output.split('\n')[0] ?? '';
        if (output.includes('\n')) resolve(line);
      });
      child.once('exit', () => reject(new Error(`serve exited early: ${output}`)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
