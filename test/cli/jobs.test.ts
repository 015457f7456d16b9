import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Job, openJobBoard } from '../../src/index.ts';
import { taskflow, tempDir } from './cli-harness.ts';

const dir = tempDir('taskflow-cli-jobs-');
const url = `sqlite://${join(dir.path, 'jobs.db')}`;
const registryModule = fileURLToPath(new URL('./fixtures/registry.ts', import.meta.url));
const jobs: Record<string, Job> = {};
// Claims and heartbeats outlive the whole file, however loaded the machine.
const HOUR = 3_600_000;

// Three jobs: one finished by a conductor, one held by it, one waiting; the conductor is live.
before(async () => {
  const board = await openJobBoard(url);
  try {
    const flow = { name: 'provision', version: '2' };
    jobs.nightly = await board.post({ name: 'nightly', flow, priority: 5 });
    jobs.resize = await board.post({ name: 'resize', flow, store: { size: 20 } });
    const done = await board.claim({ owner: 'conductor-1', ttlMs: HOUR });
    assert.equal(done?.job.id, jobs.nightly.id);
    await board.consume(done.claim, {
      state: 'REVERTED',
      failure: { type: 'RangeError', message: 'charge ran out of quota', retryable: false },
    });
    const held = await board.claim({ owner: 'conductor-1', ttlMs: HOUR });
    assert.equal(held?.job.id, jobs.resize.id);
    jobs.cleanup = await board.post({ name: 'cleanup', flow: { name: 'sweep', version: '1' } });
    await board.heartbeatConductor({ name: 'conductor-1', ttlMs: HOUR, meta: { pid: 42 } });
  } finally {
    await board.close();
  }
});
after(() => dir.remove());

const id = (name: string): string => jobs[name]?.id ?? '';

describe('taskflow jobs', { concurrency: true }, () => {
  test('list prints every job with its flow, state and outcome, owner and attempts', async () => {
    const { code, stdout } = await taskflow(['jobs', 'list', '--board', url]);
    assert.equal(code, 0);
    const lines = stdout.trim().split('\n');
    assert.match(
      lines[0] ?? '',
      /^ID\s+NAME\s+FLOW\s+STATE\s+PRIORITY\s+OWNER\s+ATTEMPTS\s+UPDATED$/,
    );
    assert.equal(lines.length, 4);
    assert.match(
      stdout,
      new RegExp(
        `^${id('nightly')}\\s+nightly\\s+provision@2\\s+COMPLETE \\(REVERTED\\)\\s+5\\s+conductor-1\\s+0 `,
        'm',
      ),
    );
    assert.match(
      stdout,
      new RegExp(`^${id('resize')}\\s+resize\\s+provision@2\\s+CLAIMED\\s+0\\s+conductor-1`, 'm'),
    );
    assert.match(
      stdout,
      new RegExp(`^${id('cleanup')}\\s+cleanup\\s+sweep@1\\s+UNCLAIMED\\s+0\\s+-`, 'm'),
    );
  });

  test('list --state filters (case-insensitively) and --json prints the jobs as stored', async () => {
    const { code, stdout } = await taskflow(
      ['jobs', 'list', '--state', 'claimed', '--state', 'UNCLAIMED', '--json'],
      {
        env: { TASKFLOW_BOARD: url },
      },
    );
    assert.equal(code, 0);
    const page = JSON.parse(stdout) as { items: Job[]; next: null };
    assert.deepEqual(
      page.items.map((job) => job.name),
      ['resize', 'cleanup'],
    );
    assert.equal(page.items[0]?.token, 1);
    assert.equal(page.next, null);
  });

  test('show prints one job with its claim, fencing token and outcome', async () => {
    const held = await taskflow(['jobs', 'show', id('resize'), '--board', url]);
    assert.equal(held.code, 0);
    assert.match(held.stdout, /^state:\s+CLAIMED$/m);
    assert.match(held.stdout, /^owner:\s+conductor-1$/m);
    assert.match(held.stdout, /^token:\s+1$/m);
    assert.match(held.stdout, /^store:\s+\{"size":20\}$/m);
    const done = await taskflow(['jobs', 'show', id('nightly'), '--board', url]);
    assert.match(done.stdout, /^outcome:\s+REVERTED: RangeError: charge ran out of quota$/m);
  });

  test('show of an unknown job exits 1 and says how to find the ids', async () => {
    const { code, stderr } = await taskflow(['jobs', 'show', 'nope', '--board', url]);
    assert.equal(code, 1);
    assert.match(stderr, /No job with id "nope".*taskflow jobs list/);
  });

  test('conductors lists the live ones with their last heartbeat and meta', async () => {
    const { code, stdout } = await taskflow(['jobs', 'conductors', '--board', url]);
    assert.equal(code, 0);
    assert.match(stdout, /^NAME\s+LAST SEEN\s+EXPIRES\s+META$/m);
    assert.match(stdout, /^conductor-1\s+\d{4}-.*\{"pid":42\}$/m);
  });

  test('post makes one job per idempotency key and prints it', async () => {
    const board = `sqlite://${join(dir.path, 'post.db')}`;
    const args = ['jobs', 'post', '--board', board, '--name', 'resize-7', '--flow', 'provision@2'];
    const more = ['--store-json', '{"size": 7}', '--priority=-3', '--key', 'order-7', '--json'];
    const first = await taskflow([...args, ...more]);
    assert.equal(first.code, 0, first.stderr);
    const job = JSON.parse(first.stdout) as Job;
    assert.deepEqual(
      [job.name, job.flow, job.store, job.priority, job.idempotencyKey, job.state],
      ['resize-7', { name: 'provision', version: '2' }, { size: 7 }, -3, 'order-7', 'UNCLAIMED'],
    );
    const again = await taskflow([...args, ...more]);
    assert.equal((JSON.parse(again.stdout) as Job).id, job.id);
    const human = await taskflow([...args]);
    assert.match(human.stdout, /^Job \S+ \(resize-7, provision@2\) is UNCLAIMED\.\n$/);
    const listed = await taskflow(['jobs', 'list', '--board', board, '--json']);
    assert.equal((JSON.parse(listed.stdout) as { items: Job[] }).items.length, 2);
  });

  test('post takes the version from a --flows module when --flow names none', async () => {
    const board = `sqlite://${join(dir.path, 'registry.db')}`;
    const base = ['jobs', 'post', '--board', board, '--name', 'n', '--flows', registryModule];
    const posted = await taskflow([...base, '--flow', 'doomed', '--json']);
    assert.equal(posted.code, 0, posted.stderr);
    assert.deepEqual((JSON.parse(posted.stdout) as Job).flow, { name: 'doomed', version: '1' });
    const unknown = await taskflow([...base, '--flow', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /No flow factory named "nope" is registered \(registered: "provision", "doomed", "stuck"\)/,
    );
    // --registry, the deprecated spelling of --flows, is still read.
    const old = ['jobs', 'post', '--board', board, '--name', 'n', '--registry', registryModule];
    const again = await taskflow([...old, '--flow', 'doomed', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as Job).flow, { name: 'doomed', version: '1' });
  });

  test('trash deletes an unclaimed job and refuses one a conductor holds', async () => {
    const board = `sqlite://${join(dir.path, 'trash.db')}`;
    const posted = await taskflow([
      'jobs',
      'post',
      '--board',
      board,
      '--name',
      'n',
      '--flow',
      'a@1',
      '--json',
    ]);
    const jobId = (JSON.parse(posted.stdout) as Job).id;
    const trashed = await taskflow(['jobs', 'trash', jobId, '--board', board]);
    assert.equal(trashed.code, 0, trashed.stderr);
    assert.equal(trashed.stdout, `Job ${jobId} was trashed.\n`);
    const gone = await taskflow(['jobs', 'show', jobId, '--board', board]);
    assert.equal(gone.code, 1);
    const held = await taskflow(['jobs', 'trash', id('resize'), '--board', url]);
    assert.equal(held.code, 1);
    assert.match(held.stderr, /conductor-1.*\(JOB_CLAIMED\)/);
  });

  test('bad input exits 2 with a message naming the problem and the fix', async () => {
    const post = ['jobs', 'post', '--board', url, '--name', 'n'];
    const cases: [string[], RegExp][] = [
      [['jobs', 'post', '--board', url, '--flow', 'a@1'], /"taskflow jobs post" needs --name NAME/],
      [post, /needs --flow FACTORY@VERSION/],
      [
        [...post, '--flow', 'provision'],
        /--flow "provision" names no version; write --flow provision@VERSION, or pass --flows MODULE/,
      ],
      [[...post, '--flow', 'provision@'], /--flow "provision@" is malformed/],
      [[...post, '--flow', 'a@1', '--store-json', '{size: 1}'], /--store-json is not valid JSON/],
      [[...post, '--flow', 'a@1', '--store-json', '[1]'], /--store-json must be a JSON object/],
      [[...post, '--flow', 'a@1', '--priority', 'high'], /--priority must be a whole number/],
      [
        [...post, '--flow', 'a@1', '--priority', '-3'],
        /value starting with "-"; .*--priority=VALUE/,
      ],
      [
        [...post, '--flow', 'a@1', '--priority', '2000000'],
        /priority 2000000; use a whole number from -1000000 to 1000000/,
      ],
      [
        [...post, '--flow', 'a@1', '--flows', '/no/such/module.ts'],
        /--flows "\/no\/such\/module.ts" could not be imported/,
      ],
      [['jobs', 'list', '--board', url, '--state', 'DONE'], /Job state filter "DONE" is unknown/],
      [['jobs', 'list', '--board', 'ftp://x'], /unsupported scheme "ftp:".*redis:\/\//],
      [['jobs', 'trash', '--board', url], /"taskflow jobs trash" needs ID/],
      [
        ['jobs', 'conductors', '--board', url, '--json=yes'],
        /Option "--json" does not take a value/,
      ],
      [
        ['jobs'],
        /"taskflow jobs" needs a subcommand; use one of list, show, post, wait, redrive, trash, prune, conductors/,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => taskflow(args)));
    cases.forEach(([args, message], index) => {
      const { code, stderr } = results[index] ?? { code: -1, stderr: '' };
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, message);
    });
  });
});
