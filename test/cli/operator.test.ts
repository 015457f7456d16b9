import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type FlowDetail,
  type Job,
  type LogBook,
  openJobBoard,
  openRunStore,
  startRun,
} from '../../src/index.ts';
import { taskflow, tempDir } from './cli-harness.ts';
import { registry } from './fixtures/registry.ts';

// The commands that act: wait, redrive, prune, resume; plus --version, JSON errors and
// terminal-safe output. Each test has its own files, so they run concurrently.
const dir = tempDir('taskflow-cli-operator-');
after(() => dir.remove());
const registryModule = fileURLToPath(new URL('./fixtures/registry.ts', import.meta.url));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FLOW = { name: 'provision', version: '2' };
let files = 0;
const newUrl = (name: string): string => `sqlite://${join(dir.path, `${name}-${files++}.db`)}`;

/** A board with one job in each end state, and one waiting and one held. */
async function boardWithJobs(): Promise<{ url: string; jobs: Record<string, Job> }> {
  const url = newUrl('jobs');
  const board = await openJobBoard(url);
  const jobs: Record<string, Job> = {};
  try {
    for (const name of ['ok', 'reverted', 'dead']) {
      const job = await board.post({ name, flow: FLOW });
      const claimed = await board.claim({ owner: 'conductor-1', ttlMs: HOUR });
      assert.equal(claimed?.job.id, job.id);
      jobs[name] =
        name === 'dead'
          ? await board.abandon(claimed.claim, { reason: 'db down', maxAttempts: 1 })
          : await board.consume(claimed.claim, {
              state: name === 'ok' ? 'SUCCESS' : 'REVERTED',
              ...(name === 'ok'
                ? {}
                : { failure: { type: 'RangeError', message: 'no quota', retryable: false } }),
            });
    }
    jobs.held = await board.post({ name: 'held', flow: FLOW, priority: 9 });
    await board.claim({ owner: 'conductor-1', ttlMs: HOUR });
    jobs.waiting = await board.post({ name: 'waiting', flow: FLOW });
  } finally {
    await board.close();
  }
  return { url, jobs };
}

const BOOK: LogBook = { id: 'book', name: 'book', meta: {}, createdAt: 0, updatedAt: 0 };
const flowDetail = (id: string, over: Partial<FlowDetail> = {}): FlowDetail => ({
  id,
  logbookId: BOOK.id,
  name: 'provision',
  state: 'SUCCESS',
  store: {},
  meta: {},
  createdAt: 0,
  updatedAt: 0,
  ...over,
});

describe('taskflow operator commands', { concurrency: true }, () => {
  test('--version prints the package version and exits 0', async () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    const { code, stdout } = await taskflow(['--version']);
    assert.equal(code, 0);
    assert.equal(stdout, `${pkg.version}\n`);
  });

  test('jobs wait exits 0 for SUCCESS, 3 for another outcome, 4 for DEAD_LETTER, 5 on --timeout, 1 when missing', async () => {
    const { url, jobs } = await boardWithJobs();
    const wait = (id: string, ...more: string[]) =>
      taskflow(['jobs', 'wait', id, '--board', url, ...more]);
    const [ok, reverted, dead, timeout, missing, json] = await Promise.all([
      wait(jobs.ok?.id ?? ''),
      wait(jobs.reverted?.id ?? ''),
      wait(jobs.dead?.id ?? ''),
      wait(jobs.waiting?.id ?? '', '--timeout', '300ms'),
      wait('no-such-job'),
      wait(jobs.reverted?.id ?? '', '--json'),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^outcome:\s+SUCCESS$/m);
    assert.equal(reverted.code, 3);
    assert.match(reverted.stdout, /^outcome:\s+REVERTED: RangeError: no quota$/m);
    assert.equal(dead.code, 4);
    assert.match(dead.stdout, /^dead-letter reason:\s+db down$/m);
    assert.equal(timeout.code, 5);
    assert.match(timeout.stderr, /did not finish within 300 ms; it is still UNCLAIMED/);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no job with id "no-such-job"/);
    assert.equal(json.code, 3);
    assert.equal((JSON.parse(json.stdout) as Job).outcome?.state, 'REVERTED');
  });

  test('jobs redrive puts a dead-lettered job back to UNCLAIMED, and refuses any other job with 2', async () => {
    const { url, jobs } = await boardWithJobs();
    const id = jobs.dead?.id ?? '';
    const redriven = await taskflow(['jobs', 'redrive', id, '--board', url]);
    assert.equal(redriven.code, 0, redriven.stderr);
    assert.equal(redriven.stdout, `Job ${id} (dead) is UNCLAIMED again.\n`);
    const shown = await taskflow(['jobs', 'show', id, '--board', url, '--json']);
    const job = JSON.parse(shown.stdout) as Job;
    assert.deepEqual([job.state, job.attempts, job.deadLetterReason], ['UNCLAIMED', 0, null]);
    const again = await taskflow(['jobs', 'redrive', jobs.ok?.id ?? '', '--board', url]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /it is COMPLETE, and only a DEAD_LETTER job can be redriven/);
  });

  test('jobs prune deletes finished jobs older than the duration, never a waiting or claimed one', async () => {
    const { url, jobs } = await boardWithJobs();
    const young = await taskflow(['jobs', 'prune', '--older-than', '1d', '--board', url]);
    assert.equal(young.code, 0, young.stderr);
    assert.equal(young.stdout, 'Deleted 0 finished jobs.\n');
    const dead = await taskflow([
      'jobs',
      'prune',
      '--older-than',
      '0s',
      '--state',
      'dead_letter',
      '--board',
      url,
      '--json',
    ]);
    assert.deepEqual(JSON.parse(dead.stdout), { deleted: [jobs.dead?.id] });
    const rest = await taskflow([
      'jobs',
      'prune',
      '--older-than=0ms',
      '--batch',
      '1',
      '--board',
      url,
    ]);
    assert.equal(rest.stdout, 'Deleted 2 finished jobs.\n');
    const left = await taskflow(['jobs', 'list', '--board', url, '--json']);
    const ids = (JSON.parse(left.stdout) as { items: Job[] }).items.map((job) => job.name);
    assert.deepEqual(ids.sort(), ['held', 'waiting']);
    const bad = await taskflow(['jobs', 'prune', '--older-than', '1d', '--state', 'CLAIMED']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--state "CLAIMED" is not one of COMPLETE, DEAD_LETTER/);
    const missing = await taskflow(['jobs', 'prune', '--board', url]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /needs --older-than DURATION/);
  });

  test('runs prune --older-than 30d --state SUCCESS,REVERTED deletes old finished runs but never a leased one', async () => {
    const url = newUrl('runs');
    const store = await openRunStore(url);
    const old = Date.now() - 40 * DAY;
    try {
      for (const [id, state, at] of [
        ['old-ok', 'SUCCESS', old],
        ['old-reverted', 'REVERTED', old],
        ['old-failed', 'FAILURE', old],
        ['old-leased', 'SUCCESS', old],
        ['new-ok', 'SUCCESS', Date.now()],
      ] as const) {
        await store.ensureFlow(BOOK, flowDetail(id, { state, createdAt: at, updatedAt: at }));
      }
      await store.acquireLease('old-leased', 'engine-9', HOUR);
    } finally {
      await store.close();
    }
    const pruned = await taskflow([
      'runs',
      'prune',
      '--older-than',
      '30d',
      '--state',
      'SUCCESS,REVERTED',
      '--store',
      url,
      '--json',
    ]);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.deepEqual(JSON.parse(pruned.stdout), { deleted: ['old-ok', 'old-reverted'] });
    const listed = await taskflow(['runs', 'list', '--store', url, '--json']);
    const ids = (JSON.parse(listed.stdout) as { items: FlowDetail[] }).items.map((f) => f.id);
    assert.deepEqual(ids.sort(), ['new-ok', 'old-failed', 'old-leased']);
    const shown = await taskflow(['runs', 'show', 'old-leased', '--store', url]);
    assert.match(shown.stdout, /^lease owner:\s+engine-9$/m);
    assert.match(shown.stdout, /^lease expires:\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/m);
    const failed = await taskflow([
      'runs',
      'prune',
      '--older-than',
      '30d',
      '--state',
      'FAILURE',
      '--store',
      url,
    ]);
    assert.equal(failed.stdout, 'Deleted 1 run.\n');
    const bad = await taskflow(['runs', 'prune', '--older-than', '30 days', '--store', url]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /must be a duration such as 30d/);
  });

  test('runs resume continues a suspended run to SUCCESS; a leased run is refused, and runs show says who holds it', async () => {
    const url = newUrl('runs');
    const store = await openRunStore(url);
    try {
      const suspended = startRun(
        'provision',
        { size: 20 },
        { runs: store, registry, runId: 'run-s' },
      );
      suspended.subscribe((event) => {
        if (event.type === 'atom' && event.atom === 'create' && event.to === 'SUCCESS') {
          suspended.suspend();
        }
      });
      assert.equal((await suspended.run()).state, 'SUSPENDED');
      await store.ensureFlow(BOOK, flowDetail('run-held', { state: 'SUSPENDED', factory: FLOW }));
      await store.acquireLease('run-held', 'engine-7', HOUR);
      await store.ensureFlow(BOOK, flowDetail('run-job', { state: 'RUNNING', factory: FLOW }));
      await store.acquireLease('run-job', 'conductor-3', HOUR, { fence: 4 });
    } finally {
      await store.close();
    }
    const resumed = await taskflow([
      'runs',
      'resume',
      'run-s',
      '--flows',
      registryModule,
      '--store',
      url,
    ]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.stdout, 'Run run-s ended SUCCESS.\n');
    const shown = await taskflow(['runs', 'show', 'run-s', '--store', url]);
    assert.match(shown.stdout, /^state:\s+SUCCESS$/m);
    assert.match(shown.stdout, /^lease owner:\s+-$/m);

    const refused = await taskflow([
      'runs',
      'resume',
      'run-held',
      '--flows',
      registryModule,
      '--store',
      url,
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /engine-7/);
    assert.match(refused.stderr, /LEASE_HELD/);
    const held = await taskflow(['runs', 'show', 'run-held', '--store', url, '--json']);
    assert.equal((JSON.parse(held.stdout) as { lease: { owner: string } }).lease.owner, 'engine-7');
    const carried = await taskflow(['runs', 'show', 'run-job', '--store', url]);
    assert.match(carried.stdout, /^lease owner:\s+conductor-3$/m);
    assert.match(carried.stdout, /^lease expires:\s+carried by job \(claim token 4;/m);

    const noRegistry = await taskflow(['runs', 'resume', 'run-s', '--store', url]);
    assert.equal(noRegistry.code, 2);
    assert.match(noRegistry.stderr, /needs --flows MODULE/);
    const missing = await taskflow([
      'runs',
      'resume',
      'nope',
      '--flows',
      registryModule,
      '--store',
      url,
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No run with id "nope"/);
  });

  test('human output escapes control characters from storage and bounds cells; --json keeps them', async () => {
    const url = newUrl('runs');
    const hostile = 'boom\u001b[2J\u0000\nforged line\u009b31m\u202eevil';
    const store = await openRunStore(url);
    try {
      await store.ensureFlow(
        BOOK,
        flowDetail('run-x', { state: 'RUNNING', meta: { note: hostile } }),
      );
      const lease = await store.acquireLease('run-x', 'seed', HOUR);
      const atom = {
        kind: 'task',
        version: '1',
        intention: 'EXECUTE',
        progress: 0,
        attempts: 1,
        meta: {},
        updatedAt: 0,
      } as const;
      await store.saveAtoms(
        'run-x',
        [
          { ...atom, name: 'a', state: 'RUNNING' },
          { ...atom, name: 'b', state: 'RUNNING' },
        ],
        lease,
      );
      await store.saveAtoms(
        'run-x',
        [
          {
            ...atom,
            name: 'a',
            state: 'FAILURE',
            failure: { type: 'Error', message: hostile, retryable: false },
          },
          { ...atom, name: 'b', state: 'SUCCESS', result: `${'x'.repeat(500)}\u009b` },
        ],
        lease,
      );
      await store.releaseLease(lease);
    } finally {
      await store.close();
    }
    const shown = await taskflow(['runs', 'show', 'run-x', '--store', url]);
    assert.equal(shown.code, 0, shown.stderr);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none get through.
    assert.doesNotMatch(shown.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    assert.doesNotMatch(shown.stdout, /^forged line/m);
    assert.match(shown.stdout, /failed: Error: boom\\x1b\[2J\\x00 forged line\\x9b31m\\u202eevil/);
    assert.match(
      shown.stdout,
      /^meta:\s+\{"note":"boom\\u001b\[2J\\u0000\\nforged line\\x9b31m\\u202eevil"\}$/m,
    );
    for (const line of shown.stdout.split('\n')) assert.ok(line.length <= 400, line);
    const json = await taskflow(['runs', 'show', 'run-x', '--store', url, '--json']);
    const run = JSON.parse(json.stdout) as { atoms: { failure?: { message: string } }[] };
    assert.equal(run.atoms[0]?.failure?.message, hostile);
  });

  test('errors honour --json with a JSON error object, and a non-finite --store-json exits 2', async () => {
    const url = newUrl('jobs');
    await (await openJobBoard(url)).close();
    const missing = await taskflow(['jobs', 'show', 'nope', '--board', url, '--json']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    const error = JSON.parse(missing.stderr) as { error: Record<string, unknown> };
    assert.equal(error.error.code, 'NOT_FOUND');
    assert.equal(error.error.exitStatus, 1);
    assert.match(String(error.error.message), /No job with id "nope"/);
    const usage = await taskflow(['runs', 'list', '--bogus', '--json']);
    assert.equal(usage.code, 2);
    assert.equal((JSON.parse(usage.stderr) as { error: { code: string } }).error.code, 'USAGE');
    const infinite = await taskflow([
      'jobs',
      'post',
      '--name',
      'n',
      '--flow',
      'provision@2',
      '--store-json',
      '{"size":1e999}',
      '--board',
      url,
    ]);
    assert.equal(infinite.code, 2);
    assert.match(infinite.stderr, /--store-json cannot be stored: store\.size is Infinity/);
  });
});
