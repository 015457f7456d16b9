import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PrivatePostgres } from '../support/private-postgres.ts';

// Issue 7, failure 5: a process opening a PostgreSQL run store while the server restarts must
// not die of an unhandled 'error' event from a connection checked out for the migrations. A
// private server (its own folder and port) is restarted and its connections are killed while
// a child process opens store after store; the child must survive, and every open must either
// succeed or fail with a retryable STORAGE_UNAVAILABLE.

const unavailable = PrivatePostgres.unavailable();
if (unavailable && process.env.CI === 'true')
  throw new Error(`${unavailable}; under CI=true this is a failure.`);

const child = new URL('./fixtures/postgres-open-child.ts', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface OpenResult {
  readonly opened: boolean;
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
}

/** Kills every other client connection of the server; how many, or 0 when it is down. */
async function terminateOthers(url: string): Promise<number> {
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 500 });
  admin.on('error', () => {});
  try {
    await admin.connect();
    const { rows } = await admin.query<{ killed: boolean }>(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
        WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    );
    return rows.filter((row) => row.killed).length;
  } catch {
    return 0;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

describe('PostgreSQL run store opened while the server restarts', {
  skip: unavailable || false,
}, () => {
  let server: PrivatePostgres;
  before(() => {
    server = PrivatePostgres.create();
  });
  after(() => server?.destroy());

  it('never crashes the process: each open succeeds or fails as STORAGE_UNAVAILABLE', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, server.url], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
    const opens = (): number => stdout.split('\n').filter(Boolean).length;

    // Kill connections at random moments (most land inside a migration), restart the server
    // halfway, then let the child open once more against a steady server.
    let killed = 0;
    for (let round = 0; round < 60 && proc.exitCode === null; round += 1) {
      if (round === 30) {
        server.stop();
        await sleep(200);
        server.start();
      }
      killed += await terminateOthers(server.url);
      await sleep(Math.floor(Math.random() * 25));
    }
    const before = opens();
    proc.stdin.end('stop\n');
    const code = await exited;

    assert.doesNotMatch(stderr, /Unhandled 'error' event/);
    assert.equal(code, 0, `the child died (exit ${code}): ${stderr}`);
    const results = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as OpenResult);
    for (const result of results) {
      if (!result.opened)
        assert.ok(
          result.name === 'StorageError' && result.code === 'STORAGE_UNAVAILABLE',
          JSON.stringify(result),
        );
    }
    assert.ok(killed > 0 && before > 10, `killed ${killed} connections over ${before} opens`);
    assert.ok(
      results.some((result) => !result.opened),
      'no open was interrupted; the test proves nothing',
    );
    assert.equal(results.at(-1)?.opened, true, 'the last open, on a steady server, succeeds');
  });
});
