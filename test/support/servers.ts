import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';

/** The test servers; override with TASKFLOW_TEST_POSTGRES_URL / TASKFLOW_TEST_REDIS_URL. */
export const POSTGRES_URL =
  process.env.TASKFLOW_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TASKFLOW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

// The real servers the persistence, jobs and engine tests use, and fresh names that isolate
// each test's tables and keys on them.

/**
 * Why a server's tests cannot run here. Under CI=true an unreachable server is a failure, not
 * a skip, so a broken CI service never passes silently.
 */
function unreachable(what: string, url: string, variable: string, error: unknown): string {
  const reason = `${what} at ${url} is unreachable (${String(error)}); set ${variable}`;
  if (process.env.CI === 'true') throw new Error(`${reason}. Under CI=true this is a failure.`);
  return reason;
}

/** Why PostgreSQL tests cannot run here, or false when the server answers. */
export async function postgresUnavailable(): Promise<string | false> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return false;
  } catch (error) {
    return unreachable('PostgreSQL', POSTGRES_URL, 'TASKFLOW_TEST_POSTGRES_URL', error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Why Redis tests cannot run here, or false when the server answers. */
export async function redisUnavailable(): Promise<string | false> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return false;
  } catch (error) {
    return unreachable('Redis', REDIS_URL, 'TASKFLOW_TEST_REDIS_URL', error);
  } finally {
    redis.disconnect();
  }
}

/** Fresh PostgreSQL schema names for isolated stores and boards, dropped again by `dropAll`. */
export class TestSchemas {
  readonly #names: string[] = [];
  readonly #prefix = `tf_test_${process.pid}_${Date.now().toString(36)}`;

  next(): string {
    const name = `${this.#prefix}_${this.#names.length + 1}`;
    this.#names.push(name);
    return name;
  }

  async dropAll(): Promise<void> {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      for (const name of this.#names) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    } finally {
      await client.end();
    }
  }
}

/** Fresh Redis key prefixes for isolated boards; `dropAll` deletes every key under them. */
export class TestPrefixes {
  readonly #names: string[] = [];
  readonly #prefix = `tf-test:${process.pid}:${Date.now().toString(36)}`;

  next(): string {
    const name = `${this.#prefix}:${this.#names.length + 1}`;
    this.#names.push(name);
    return name;
  }

  async dropAll(): Promise<void> {
    const redis = new Redis(REDIS_URL);
    try {
      for await (const keys of redis.scanStream({ match: `${this.#prefix}:*`, count: 500 })) {
        if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
      }
    } finally {
      redis.disconnect();
    }
  }
}

/** What one test file needs of the test servers, made once and cleaned up after the file. */
export interface TestServers {
  /** A scratch folder for SQLite files. */
  readonly dir: string;
  readonly schemas: TestSchemas;
  readonly prefixes: TestPrefixes;
  /** Why PostgreSQL tests skip, or false. */
  readonly pgSkip: string | false;
  /** Why Redis tests skip, or false. */
  readonly redisSkip: string | false;
}

/**
 * A scratch folder, fresh PostgreSQL schemas and Redis prefixes, and whether each server is
 * reachable; everything is removed after the test file.
 */
export async function testServers(name: string): Promise<TestServers> {
  const dir = mkdtempSync(join(tmpdir(), `taskflow-${name}-`));
  const schemas = new TestSchemas();
  const prefixes = new TestPrefixes();
  const pgSkip = await postgresUnavailable();
  const redisSkip = await redisUnavailable();
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (!pgSkip) await schemas.dropAll();
    if (!redisSkip) await prefixes.dropAll();
  });
  return { dir, schemas, prefixes, pgSkip, redisSkip };
}
