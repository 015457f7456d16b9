import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { openRunStore } from '../../src/persistence/open-run-store.ts';
import { isStorageError } from '../../src/persistence/storage-error.ts';
import { flowDetail } from '../../src/testing/run-store-contract.ts';
import { POSTGRES_URL, postgresUnavailable, TestSchemas } from '../support/servers.ts';

const dir = mkdtempSync(join(tmpdir(), 'taskflow-open-'));
const skipPostgres = await postgresUnavailable();
const schemas = new TestSchemas();
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!skipPostgres) await schemas.dropAll();
});
const book = { id: 'book-1', name: 'book', meta: {}, createdAt: 0, updatedAt: 0 };

async function roundTrip(url: string): Promise<void> {
  const store = await openRunStore(url);
  try {
    await store.ensureFlow(book, flowDetail('run-1'));
    assert.equal((await store.listFlows({ unfinished: true })).items.length, 1);
  } finally {
    await store.close();
  }
}

describe('openRunStore', () => {
  it('opens memory:// and SQLite files by absolute and relative URLs', async () => {
    await roundTrip('memory://');
    await roundTrip(`sqlite://${join(dir, 'absolute.db')}?durability=power-loss&busyTimeoutMs=100`);
    await roundTrip(`sqlite://${relative(process.cwd(), join(dir, 'relative.db'))}`);
    const again = await openRunStore(`sqlite://${join(dir, 'absolute.db')}`);
    assert.equal((await again.loadRun('run-1'))?.flow.id, 'run-1');
    await again.close();
  });

  it('opens postgres:// and postgresql:// URLs with a schema parameter', {
    skip: skipPostgres,
  }, async () => {
    await roundTrip(`${POSTGRES_URL}?schema=${schemas.next()}`);
    await roundTrip(
      `${POSTGRES_URL.replace(/^postgres:/, 'postgresql:')}?schema=${schemas.next()}`,
    );
  });

  it('refuses an unknown scheme, listing the supported ones, without echoing a password', async () => {
    await assert.rejects(openRunStore('mysql://root:secret@localhost/db'), (error: unknown) => {
      assert.ok(isStorageError(error, 'INVALID_ARGUMENT'));
      assert.match(
        error.message,
        /unsupported scheme "mysql:"; use one of memory:\/\/, sqlite:\/\/\/absolute\/path\.db, .*postgres:\/\//,
      );
      assert.ok(!error.message.includes('secret'));
      return true;
    });
    await assert.rejects(openRunStore('runs.db'), /has no scheme/);
    await assert.rejects(openRunStore('sqlite://'), /names no file/);
    await assert.rejects(
      openRunStore(`sqlite://${join(dir, 'x.db')}?durability=sometimes`),
      /durability=sometimes is unknown/,
    );
  });
});
