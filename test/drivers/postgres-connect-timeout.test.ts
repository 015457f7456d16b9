import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openJobBoard } from '../../src/jobs/open-job-board.ts';
import { openRunStore } from '../../src/persistence/open-run-store.ts';
import { toPostgresStorageError } from '../../src/persistence/postgres/postgres-storage-errors.ts';
import { StorageError } from '../../src/persistence/storage-error.ts';

// A server that accepts connections and never answers: what a black-holed host or a port
// that is no PostgreSQL server looks like to a client waiting for the startup reply.
const sockets = new Set<Socket>();
const silent = createServer((socket) => {
  sockets.add(socket);
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
});
let port = 0;

before(async () => {
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const address = silent.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

describe('a PostgreSQL server that never answers', () => {
  for (const [name, open] of [
    ['openRunStore', (url: string) => openRunStore(url, { connectTimeoutMs: 300 })],
    ['openJobBoard', (url: string) => openJobBoard(url, { connectTimeoutMs: 300 })],
  ] as const) {
    it(`${name} gives up after connectTimeoutMs and says so`, { timeout: 10_000 }, async () => {
      await assert.rejects(
        open(`postgres://app:s3cret@127.0.0.1:${port}/app`),
        (error: Error & { code?: string; retryable?: boolean }) => {
          assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port} within 300 ms`));
          assert.match(error.message, /connectTimeoutMs/);
          assert.equal(error.retryable, true);
          assert.doesNotMatch(error.message, /s3cret/);
          return true;
        },
      );
    });
  }
});

describe('a connect timeout after the store is open', () => {
  it('is reported as unavailable (retryable), as a lost connection is', () => {
    const error = toPostgresStorageError(
      new Error('timeout exceeded when trying to connect'),
      'public',
    );
    assert.ok(error instanceof StorageError);
    assert.equal(error.code, 'STORAGE_UNAVAILABLE');
    assert.equal(error.retryable, true);
  });
});
