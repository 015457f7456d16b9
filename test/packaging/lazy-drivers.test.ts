import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadDriver } from '../../src/drivers/load-driver.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The driver packages a fresh process has loaded after importing `entry` (and running `then`). */
function driversLoadedBy(entry: string, then = ''): string[] {
  const script = `
    import { createRequire } from 'node:module';
    const entry = await import(${JSON.stringify(entry)});
    ${then}
    const loaded = Object.keys(createRequire(import.meta.url).cache)
      .map((file) => /node_modules\\/(pg|ioredis|better-sqlite3)\\//.exec(file)?.[1])
      .filter((name) => name !== undefined);
    console.log(JSON.stringify([...new Set(loaded)].sort()));
  `;
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  return JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as string[];
}

describe('driver loading', () => {
  it('importing the package root loads none of pg, ioredis and better-sqlite3', () => {
    assert.deepEqual(driversLoadedBy('./src/index.ts'), []);
  });

  it('the subpath entries load no driver until a backend is opened', () => {
    for (const entry of [
      './src/sqlite.ts',
      './src/postgres.ts',
      './src/redis.ts',
      './src/testing/index.ts',
    ]) {
      assert.deepEqual(driversLoadedBy(entry), [], entry);
    }
  });

  it('opening a SQLite store loads better-sqlite3 and nothing else', () => {
    const open = `(await entry.openRunStore('sqlite://:memory:')).close();`;
    assert.deepEqual(driversLoadedBy('./src/index.ts', open), ['better-sqlite3']);
  });

  it('a missing driver package is an error naming the package to install', () => {
    assert.throws(
      () => loadDriver('taskflow-no-such-driver', 'postgres:// URLs'),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'DRIVER_MISSING');
        assert.match(error.message, /"taskflow-no-such-driver" is needed for postgres:\/\/ URLs/);
        assert.match(error.message, /npm install taskflow-no-such-driver/);
        return true;
      },
    );
  });
});
