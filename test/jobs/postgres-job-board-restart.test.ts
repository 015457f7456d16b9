import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PrivatePostgres } from '../support/private-postgres.ts';

const OPENER = fileURLToPath(new URL('./fixtures/postgres-board-opener.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface OpenerResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lines: readonly Record<string, unknown>[];
  readonly stderr: string;
}

/** An opener process: `started` once it has opened a board, `stop()` to end it and collect. */
interface Opener {
  readonly started: Promise<void>;
  stop(): Promise<OpenerResult>;
}

function startOpener(url: string): Opener {
  const child = spawn(process.execPath, ['--import', 'tsx', OPENER, url], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const result = new Promise<OpenerResult>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('"ok":true')) markStarted();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code, signal) => {
      const lines = stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      markStarted(); // a child that died before opening anything is reported by stop()
      resolve({ code, signal, lines, stderr });
    });
  });
  return {
    started,
    stop: () => {
      child.stdin.end();
      return result;
    },
  };
}

const skip = PrivatePostgres.unavailable();

describe('PostgreSQL jobboards opened while the server restarts', { skip }, () => {
  let server: PrivatePostgres;
  before(() => {
    server = PrivatePostgres.create();
  });
  after(() => server?.destroy());

  it('never die of an unhandled error: each open succeeds or fails with a retryable BOARD_UNAVAILABLE', async () => {
    const openers = Array.from({ length: 4 }, () => startOpener(server.url));
    await Promise.all(openers.map((opener) => opener.started));
    // Twice, so migrations, idle connections and LISTEN connections are all hit mid-use.
    for (const downMs of [400, 800]) {
      await sleep(700);
      server.stop();
      await sleep(downMs);
      server.start();
    }
    await sleep(700);
    const results = await Promise.all(openers.map((opener) => opener.stop()));
    for (const [i, result] of results.entries()) {
      const where = `opener ${i}: ${result.stderr.slice(0, 2000)}`;
      assert.doesNotMatch(result.stderr, /Unhandled|ECONNRESET|uncaught/i, where);
      assert.deepEqual([result.code, result.signal], [0, null], where);
      assert.deepEqual(result.lines.at(-1), { done: true }, where);
      for (const line of result.lines.filter((l) => l.ok === false)) {
        assert.deepEqual(
          [line.code, line.retryable],
          ['BOARD_UNAVAILABLE', true],
          `opener ${i}: ${JSON.stringify(line)}`,
        );
      }
    }
    const lines = results.flatMap((result) => result.lines);
    assert.ok(
      lines.some((l) => l.ok === false && l.step === 'open'),
      'some opens met the restart',
    );
    assert.ok(lines.filter((l) => l.ok === true).length > 8, 'boards opened between restarts');
  });
});
