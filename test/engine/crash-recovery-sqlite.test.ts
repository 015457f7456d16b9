import { join } from 'node:path';
import { test } from 'node:test';
import { dir, killAndResume } from '../support/crash.ts';

test('runs killed at every kind of point on SQLite resume to the reference states and results, never re-run a succeeded atom, keep at most `concurrency` atoms in flight, and revert in the uninterrupted order', async () => {
  await killAndResume('sqlite', `sqlite://${join(dir, 'runs.db')}`, 99);
});
