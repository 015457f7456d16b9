import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConductorTally } from '../../src/cli/conductor-status.ts';
import type { ConductorEvent, Job, JobOutcome } from '../../src/index.ts';

const job = { id: 'job-1', name: 'boot-1' } as Job;
const outcome = { state: 'SUCCESS' } as JobOutcome;
const completed: ConductorEvent = { type: 'completed', job, outcome };
const T0 = Date.UTC(2026, 11, 3, 12);

test('the status line counts completed, abandoned and lost jobs, and completions of the last minute', () => {
  const tally = new ConductorTally();
  tally.record({ type: 'claimed', job, token: 1 }, T0);
  tally.record(completed, T0);
  tally.record(completed, T0 + 30_000);
  tally.record({ type: 'abandoned', job, reason: 'store unavailable' }, T0 + 31_000);
  tally.record({ type: 'lost', jobId: 'job-2', error: new Error('fenced') }, T0 + 32_000);
  tally.record({ type: 'error', error: new Error('board down') }, T0 + 33_000);
  assert.equal(
    tally.line({ running: 1, held: [], now: T0 + 40_000 }),
    'running 1 · completed 2 · abandoned 1 · lost 1 · 2/min',
  );
  assert.equal(
    tally.line({ running: 0, held: [], now: T0 + 61_000 }),
    'running 0 · completed 2 · abandoned 1 · lost 1 · 1/min',
  );
});

test('held claims show the seconds left on their lease, at most three by name', () => {
  const tally = new ConductorTally();
  const now = T0;
  const held = [
    { jobId: 'a', name: 'boot-1', leaseExpiresAt: now + 24_500 },
    { jobId: 'b', name: 'boot-2', leaseExpiresAt: now - 1 },
    { jobId: 'c', name: 'boot-3', leaseExpiresAt: null },
    { jobId: 'd', name: 'boot-4', leaseExpiresAt: now + 1000 },
    { jobId: 'e', name: 'boot-5', leaseExpiresAt: now + 1000 },
  ];
  assert.equal(
    tally.line({ running: 5, held, now }),
    'running 5 · completed 0 · abandoned 0 · lost 0 · 0/min · held: boot-1 25s, boot-2 expired, boot-3 ? +2 more',
  );
});

test('job names on the status line cannot move the cursor or reorder the text', () => {
  const tally = new ConductorTally();
  const held = [{ jobId: 'a', name: 'evil\u001b[2J\u202ename', leaseExpiresAt: T0 + 5000 }];
  const line = tally.line({ running: 1, held, now: T0 });
  assert.ok(line.endsWith('held: evil\\x1b[2J\\u202ename 5s'), line);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting that none is left.
  assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
});
