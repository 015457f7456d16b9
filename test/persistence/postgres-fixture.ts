import pg from 'pg';

/** The test server; override with TASKFLOW_TEST_POSTGRES_URL. */
export const POSTGRES_URL =
  process.env.TASKFLOW_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Why PostgreSQL tests cannot run here, or false when the server answers. Under CI=true an
 * unreachable server is a failure, not a skip, so a broken CI service never passes silently.
 */
export async function postgresUnavailable(): Promise<string | false> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return false;
  } catch (error) {
    const reason = `PostgreSQL at ${POSTGRES_URL} is unreachable (${String(error)}); set TASKFLOW_TEST_POSTGRES_URL`;
    if (process.env.CI === 'true') throw new Error(`${reason}. Under CI=true this is a failure.`);
    return reason;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Fresh schema names for isolated stores, dropped again by {@link dropSchemas}. */
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
