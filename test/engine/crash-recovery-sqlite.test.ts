import { join } from 'node:path';
import { test } from 'node:test';
import { dir, killAndResume } from '../support/crash.ts';

test('runs killed at every kind of point (after each kind of write, inside execute and revert) on SQLite resume to the same end without redoing finished work', async () => {
  await killAndResume('sqlite', `sqlite://${join(dir, 'runs.db')}`, 99);
});
