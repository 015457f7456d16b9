import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import {
  createSqliteRunStore,
  SqliteRunStoreDriver,
} from '../../src/persistence/sqlite/sqlite-run-store.ts';
import { isStorageError } from '../../src/persistence/storage-error.ts';
import {
  atomDetail,
  flowDetail,
  runRunStoreContract,
} from '../../src/testing/run-store-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'taskflow-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = (): string => {
  files += 1;
  return join(dir, `store-${files}.db`);
};
const book = { id: 'book-1', name: 'book', meta: {}, createdAt: 0, updatedAt: 0 };
const child = new URL('./fixtures/sqlite-child.ts', import.meta.url).pathname;
const hash = (path: string): string =>
  createHash('sha256').update(readFileSync(path)).digest('hex');

runRunStoreContract({
  name: 'sqlite',
  open: async ({ now }) => createSqliteRunStore({ path: newPath(), now }),
});

/** Creates a store file with one run, closes it, then lets `tamper` change it behind our back. */
async function storeFile(tamper: (db: Database.Database) => void): Promise<string> {
  const path = newPath();
  const store = createSqliteRunStore({ path });
  await store.ensureFlow(book, flowDetail('run-1'));
  await store.close();
  const db = new Database(path);
  tamper(db);
  db.pragma('journal_mode = DELETE');
  db.close();
  return path;
}

function refusedUnchanged(
  path: string,
  code: 'SCHEMA_MISMATCH' | 'STORAGE_CORRUPT',
  pattern: RegExp,
): void {
  const before = hash(path);
  assert.throws(
    () => createSqliteRunStore({ path }),
    (error: unknown) => isStorageError(error, code) && pattern.test(error.message),
  );
  assert.equal(hash(path), before, 'the refused file must be left byte for byte unchanged');
}

describe('SQLite run store', () => {
  it('uses WAL with synchronous=NORMAL by default and FULL for power-loss durability', async () => {
    const normal = new SqliteRunStoreDriver({ path: newPath() });
    assert.deepEqual(normal.settings(), { journalMode: 'wal', synchronous: 'NORMAL' });
    await normal.close();
    const full = new SqliteRunStoreDriver({ path: newPath(), durability: 'power-loss' });
    assert.deepEqual(full.settings(), { journalMode: 'wal', synchronous: 'FULL' });
    await full.close();
  });

  it('keeps what it acknowledged across close and reopen', async () => {
    const path = newPath();
    const first = createSqliteRunStore({ path });
    await first.ensureFlow(book, flowDetail('run-1'));
    const lease = await first.acquireLease('run-1', 'engine-a', 60_000);
    await first.saveAtoms('run-1', [atomDetail('a', { state: 'RUNNING', attempts: 1 })], lease);
    await first.close();
    const second = createSqliteRunStore({ path });
    assert.deepEqual((await second.loadRun('run-1'))?.atoms, [
      atomDetail('a', { state: 'RUNNING', attempts: 1 }),
    ]);
    await second.close();
  });

  it('refuses a file with a newer schema version and leaves it unchanged', async () => {
    const path = await storeFile((db) => db.pragma('user_version = 99'));
    refusedUnchanged(
      path,
      'SCHEMA_MISMATCH',
      /schema version 99, newer than the 1 .* Upgrade the library/,
    );
  });

  it('refuses a database that is not ours and leaves it unchanged', () => {
    const path = newPath();
    const db = new Database(path);
    db.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY)');
    db.close();
    refusedUnchanged(path, 'SCHEMA_MISMATCH', /is not a taskflow database .*tables: invoices/);
  });

  it('refuses a file whose tables are gone or that is not a database at all', async () => {
    const path = await storeFile((db) => db.exec('DROP TABLE taskflow_atoms'));
    refusedUnchanged(path, 'STORAGE_CORRUPT', /lacks table taskflow_atoms/);
    const garbage = newPath();
    writeFileSync(garbage, Buffer.alloc(8192, 7));
    refusedUnchanged(garbage, 'STORAGE_CORRUPT', /cannot be read as a database/);
  });

  it('grants the lease to exactly one of several processes racing for it, and a fenced lease to the biggest fence', async () => {
    const path = newPath();
    const store = createSqliteRunStore({ path });
    await store.ensureFlow(book, flowDetail('run-1'));
    await store.ensureFlow(book, flowDetail('run-2'));
    await store.close();
    const startAt = String(Date.now() + 2500);
    const fences = [3, 6, 1, 5, 2, 4];
    const run = promisify(execFile);
    const outputs = await Promise.all(
      fences.map((fence, i) =>
        run(process.execPath, [
          '--import',
          'tsx',
          child,
          'race',
          path,
          `engine-${i}`,
          startAt,
          String(fence),
        ]),
      ),
    );
    type Attempt = { won: boolean; token?: number; code?: string };
    const results = outputs.map(
      (output) => JSON.parse(output.stdout) as { plain: Attempt; fenced: Attempt },
    );
    const plain = results.map((r) => r.plain);
    assert.equal(plain.filter((r) => r.won).length, 1, JSON.stringify(plain));
    assert.ok(
      plain.every((r) => r.won || r.code === 'LEASE_HELD'),
      JSON.stringify(plain),
    );
    const fenced = results.map((r) => r.fenced);
    assert.ok(
      fenced.every((r, i) => (r.won ? r.token === fences[i] : r.code === 'FENCED')),
      JSON.stringify(fenced),
    );
    assert.equal(fenced[1]?.won, true, JSON.stringify(fenced));
    // The biggest fence holds it: its owner is granted it again, nobody else with that fence.
    const after = createSqliteRunStore({ path });
    const holder = await after.acquireLease('run-2', 'engine-1', 60_000, { fence: 6 });
    assert.equal(holder.token, 6);
    await assert.rejects(after.acquireLease('run-2', 'engine-0', 60_000, { fence: 6 }), (e) =>
      isStorageError(e, 'FENCED'),
    );
    await after.close();
  });

  it('keeps every acknowledged write of a process killed with SIGKILL mid-run', async () => {
    const path = newPath();
    const store = createSqliteRunStore({ path });
    await store.ensureFlow(book, flowDetail('run-1'));
    await store.close();
    const proc = spawn(process.execPath, ['--import', 'tsx', child, 'kill', path, '100000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acknowledged = -1;
    await new Promise<void>((resolve) => {
      proc.stdout.on('data', (chunk: Buffer) => {
        const lines = chunk.toString().trim().split('\n');
        acknowledged = Number(lines[lines.length - 1]);
        if (acknowledged >= 200) proc.kill('SIGKILL');
      });
      proc.on('exit', () => resolve());
    });
    const reopened = createSqliteRunStore({ path });
    const run = await reopened.loadRun('run-1');
    await reopened.close();
    assert.ok(acknowledged >= 200, `child died early after ${acknowledged} writes`);
    assert.ok(
      (run?.atoms.length ?? 0) >= acknowledged + 1,
      `${run?.atoms.length} atoms stored, ${acknowledged + 1} acknowledged`,
    );
    assert.deepEqual(
      run?.atoms[acknowledged],
      atomDetail(`a${acknowledged}`, { state: 'RUNNING' }),
    );
  });
});
