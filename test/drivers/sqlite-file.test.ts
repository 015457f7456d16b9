import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openJobBoard } from '../../src/jobs/open-job-board.ts';
import { openRunStore } from '../../src/persistence/open-run-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'taskflow-sqlite-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('SQLite files', () => {
  it('a new run store file and its WAL are readable by their owner only (0600)', async () => {
    const path = join(dir, 'runs.db');
    const store = await openRunStore(`sqlite://${path}`);
    try {
      assert.equal(modeOf(path).toString(8), '600');
      if (existsSync(`${path}-wal`)) assert.equal(modeOf(`${path}-wal`).toString(8), '600');
    } finally {
      await store.close();
    }
  });

  it('a new jobboard file is readable by its owner only (0600)', async () => {
    const path = join(dir, 'jobs.db');
    const board = await openJobBoard(`sqlite://${path}`);
    try {
      await board.post({ name: 'nightly', flow: { name: 'report', version: '1' } });
      assert.equal(modeOf(path).toString(8), '600');
      assert.equal(modeOf(`${path}-wal`).toString(8), '600');
    } finally {
      await board.close();
    }
  });

  for (const [name, open] of [
    ['openRunStore', (url: string) => openRunStore(url, { create: false })],
    ['openJobBoard', (url: string) => openJobBoard(url, { create: false })],
  ] as const) {
    it(`${name} with create: false refuses a missing file, names it, and creates nothing`, async () => {
      const path = join(dir, `typo-${name}.db`);
      await assert.rejects(open(`sqlite://${path}`), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'INVALID_ARGUMENT');
        assert.ok(error.message.includes(path), error.message);
        assert.match(error.message, /does not exist/);
        return true;
      });
      assert.equal(existsSync(path), false);
    });

    it(`${name} with create: false opens a file that exists`, async () => {
      const path = join(dir, `existing-${name}.db`);
      await (await openRunStore(`sqlite://${path}`)).close();
      const opened = await open(`sqlite://${path}`);
      await opened.close();
    });
  }
});
