import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type LogBook, openJobBoard, openRunStore } from '../../src/index.ts';
import { taskflow, tempDir } from './cli-harness.ts';
import { noTerminal, taskflowInTerminal } from './terminal-harness.ts';

// Live displays: on a terminal the conductor redraws a status line and prune shows its
// progress; anywhere else the output stays plain lines, without one escape sequence.
const dir = tempDir('taskflow-cli-terminal-');
after(() => dir.remove());
const heldRegistry = fileURLToPath(new URL('./fixtures/held-registry.ts', import.meta.url));
const ESC = '\u001b';
let files = 0;
const newUrl = (name: string): string => `sqlite://${join(dir.path, `${name}-${files++}.db`)}`;

/** A board holding `count` dead-lettered jobs, each updated before this resolves. */
async function boardWithDeadJobs(count: number): Promise<string> {
  const url = newUrl('jobs');
  const board = await openJobBoard(url);
  try {
    for (let i = 0; i < count; i++) {
      await board.post({ name: `dead-${i}`, flow: { name: 'held', version: '1' } });
      const claimed = await board.claim({ owner: 'conductor-1', ttlMs: 60_000 });
      assert.ok(claimed);
      await board.abandon(claimed.claim, { reason: 'gone', maxAttempts: 1 });
    }
  } finally {
    await board.close();
  }
  // So that "--older-than 0ms" finds every one of them updated strictly before its cutoff.
  await new Promise((resolve) => setTimeout(resolve, 5));
  return url;
}

/** A run store holding `count` SUCCESS runs last updated forty days ago. */
async function storeWithOldRuns(count: number): Promise<string> {
  const url = newUrl('runs');
  const store = await openRunStore(url);
  const book: LogBook = { id: 'book', name: 'book', meta: {}, createdAt: 0, updatedAt: 0 };
  const at = Date.now() - 40 * 86_400_000;
  try {
    for (let i = 0; i < count; i++) {
      await store.ensureFlow(book, {
        id: `old-${i}`,
        logbookId: book.id,
        name: 'held',
        state: 'SUCCESS',
        store: {},
        meta: {},
        createdAt: at,
        updatedAt: at,
      });
    }
  } finally {
    await store.close();
  }
  return url;
}

describe('live displays', { skip: noTerminal }, () => {
  test('runs prune shows its progress on a terminal, and only JSON with --json', async () => {
    const url = await storeWithOldRuns(3);
    const session = taskflowInTerminal([
      'runs',
      'prune',
      '--older-than',
      '30d',
      '--batch',
      '1',
      '--runs',
      url,
    ]);
    assert.equal(await session.exited, 0, session.output());
    assert.match(session.output(), /Pruning runs: \d+ deleted, batch \d+/);
    assert.match(session.output(), /Deleted 3 runs\.\r?\n/);
    const again = await storeWithOldRuns(2);
    const json = taskflowInTerminal([
      'runs',
      'prune',
      '--older-than',
      '30d',
      '--runs',
      again,
      '--json',
    ]);
    assert.equal(await json.exited, 0, json.output());
    assert.ok(!json.output().includes(ESC), 'no progress line among the JSON');
    assert.deepEqual(JSON.parse(json.output()), { deleted: ['old-0', 'old-1'] });
  });

  test('jobs prune shows its progress on a terminal, then the plain summary line', async () => {
    const url = await boardWithDeadJobs(5);
    const session = taskflowInTerminal([
      'jobs',
      'prune',
      '--older-than',
      '0ms',
      '--batch',
      '2',
      '--board',
      url,
    ]);
    assert.equal(await session.exited, 0, session.output());
    const output = session.output();
    assert.match(output, /Pruning jobs: \d+ deleted, batch \d+/);
    assert.ok(output.includes(`${ESC}[`), 'the progress line is drawn with escape sequences');
    assert.match(output, /Deleted 5 finished jobs\.\r?\n/);
  });

  test('jobs prune prints plain lines when stdout is not a terminal', async () => {
    const url = await boardWithDeadJobs(3);
    const pruned = await taskflow(['jobs', 'prune', '--older-than', '0ms', '--board', url]);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.equal(pruned.stdout, 'Deleted 3 finished jobs.\n');
    assert.ok(!pruned.stderr.includes(ESC));
  });

  test('taskflow conductor redraws a status line with its held claims on a terminal', async () => {
    const board = newUrl('jobs');
    const release = join(dir.path, 'release-conductor');
    const session = taskflowInTerminal([
      'conductor',
      '--flows',
      heldRegistry,
      '--runs',
      newUrl('runs'),
      '--board',
      board,
      '--name',
      'tty-conductor',
    ]);
    try {
      await session.waitFor(/running 0 · completed 0 · abandoned 0 · lost 0 · 0\/min/);
      const jobs = await openJobBoard(board);
      try {
        const job = await jobs.post({
          name: 'held-1',
          flow: { name: 'held', version: '1' },
          store: { release },
        });
        await session.waitFor(
          /running 1 · completed 0 · abandoned 0 · lost 0 · 0\/min · held: held-1 \d+s/,
        );
        writeFileSync(release, '');
        assert.equal((await jobs.wait(job.id, { timeoutMs: 30_000 })).outcome?.state, 'SUCCESS');
      } finally {
        await jobs.close();
      }
      await session.waitFor(/running 0 · completed 1 · abandoned 0 · lost 0 · 1\/min/);
    } finally {
      assert.equal(await session.stop(), 0, session.output());
    }
    const output = session.output();
    assert.match(output, /claimed job \S+ \(held-1\) with token \d+/);
    assert.match(output, /completed job \S+ \(held-1\): SUCCESS/);
    assert.match(output, /stopped\r?\n/);
    assert.ok(output.includes(`${ESC}[?25h`), 'the cursor is shown again');
    assert.ok(output.includes(`${ESC}[`), 'the status line is redrawn in place');
  });
});
