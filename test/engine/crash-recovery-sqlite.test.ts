import { join } from 'node:path';
import { test } from 'node:test';
import { dir, killAndResume } from '../support/crash.ts';

test('runs killed at sampled points on SQLite resume to the same end without redoing finished work', async () => {
  await killAndResume('sqlite', `sqlite://${join(dir, 'runs.db')}`, 7);
});
