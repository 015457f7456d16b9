import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { createSqliteJobBoard } from '../../src/jobs/sqlite/sqlite-job-board.ts';
import { createSqliteRunStore } from '../../src/persistence/sqlite/sqlite-run-store.ts';
import { jobSpec, rejectsWith, runJobBoardContract } from '../../src/testing/jobboard-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'taskflow-jobs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newFile = (): string => join(dir, `board-${++files}.db`);

runJobBoardContract({
  name: 'sqlite',
  open: async ({ now, count }) => {
    const path = newFile();
    return Array.from({ length: count }, () =>
      createSqliteJobBoard({ path, now, pollMs: 10, recheckMs: 60_000 }),
    );
  },
});

describe('SQLite jobboard', () => {
  it('gives each job to exactly one of several claiming processes', async () => {
    const path = newFile();
    const board = createSqliteJobBoard({ path });
    for (let i = 0; i < 60; i += 1) await board.post(jobSpec(`job-${i}`));
    const child = new URL('./fixtures/sqlite-claimer.ts', import.meta.url).pathname;
    const run = promisify(execFile);
    const outputs = await Promise.all(
      [1, 2, 3].map((n) =>
        run(process.execPath, ['--import', 'tsx', child, path, `proc-${n}`], { timeout: 30_000 }),
      ),
    );
    const claimed = outputs.flatMap((out) => out.stdout.trim().split('\n').filter(Boolean));
    assert.equal(claimed.length, 60);
    assert.equal(new Set(claimed).size, 60);
    const jobs = (await board.list({ limit: 1000 })).items;
    assert.ok(jobs.every((job) => job.state === 'CLAIMED' && job.token === 1));
    await board.close();
  });

  it('shares one file with the run store, each keeping its own schema version', async () => {
    const path = newFile();
    const board = createSqliteJobBoard({ path });
    await board.post(jobSpec('kept'));
    await board.close();
    const store = createSqliteRunStore({ path });
    await store.close();
    const again = createSqliteJobBoard({ path });
    assert.equal((await again.list()).items.length, 1);
    await again.close();
    const otherWay = newFile();
    await createSqliteRunStore({ path: otherWay }).close();
    await createSqliteJobBoard({ path: otherWay }).close();
  });

  it('refuses a file that is not ours or is at a newer version, leaving it unchanged', async () => {
    const foreign = newFile();
    const db = new Database(foreign);
    db.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY)');
    db.close();
    assert.throws(
      () => createSqliteJobBoard({ path: foreign }),
      (error: unknown) => /not a taskflow database.*invoices/.test(String(error)),
    );
    const newer = newFile();
    await createSqliteJobBoard({ path: newer }).close();
    const raw = new Database(newer);
    raw.prepare("INSERT INTO taskflow_jobboard_schema_version VALUES (3, 'future', 'x')").run();
    raw.close();
    assert.throws(
      () => createSqliteJobBoard({ path: newer }),
      (error: unknown) => /version 3, newer than the 2/.test(String(error)),
    );
  });

  it('reports a job row damaged outside the library as BOARD_CORRUPT', async () => {
    const path = newFile();
    const board = createSqliteJobBoard({ path });
    const job = await board.post(jobSpec('damaged'));
    const raw = new Database(path);
    raw.prepare("UPDATE taskflow_jobs SET store = '{oops' WHERE id = ?").run(job.id);
    raw.close();
    await rejectsWith(board.get(job.id), 'BOARD_CORRUPT', /store that is not JSON/);
    await board.close();
  });
});
