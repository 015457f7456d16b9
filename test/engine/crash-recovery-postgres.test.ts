import { test } from 'node:test';
import { killAndResume } from '../support/crash.ts';
import { POSTGRES_URL, postgresUnavailable, TestSchemas } from '../support/servers.ts';

test('runs killed at a seeded sample of the kinds of point on PostgreSQL resume to the reference states and results, never re-run a succeeded atom, keep at most `concurrency` atoms in flight, and revert in the uninterrupted order', async (t) => {
  const unavailable = await postgresUnavailable();
  if (unavailable) {
    t.skip(unavailable);
    return;
  }
  const schemas = new TestSchemas();
  try {
    await killAndResume('postgres', `${POSTGRES_URL}?schema=${schemas.next()}`, 5);
  } finally {
    await schemas.dropAll();
  }
});
