import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openRunStore, startRun } from '../../src/index.ts';
import { taskflow, tempDir } from './cli-harness.ts';
import { registry } from './fixtures/registry.ts';

const dir = tempDir('taskflow-cli-runs-');
const url = `sqlite://${join(dir.path, 'runs.db')}`;
let stored: unknown;

// One run of each kind: finished (SUCCESS, REVERTED) and unfinished (SUSPENDED, FAILURE).
before(async () => {
  const store = await openRunStore(url);
  try {
    const options = { store, registry };
    await startRun('provision', { size: 10 }, { ...options, runId: 'run-ok' }).run();
    const suspended = startRun('provision', { size: 20 }, { ...options, runId: 'run-suspended' });
    suspended.subscribe((event) => {
      if (event.type === 'atom' && event.atom === 'create' && event.to === 'SUCCESS') {
        suspended.suspend();
      }
    });
    assert.equal((await suspended.run()).state, 'SUSPENDED');
    await assert.rejects(startRun('doomed', {}, { ...options, runId: 'run-reverted' }).run());
    await assert.rejects(startRun('stuck', {}, { ...options, runId: 'run-stuck' }).run());
    stored = await store.loadRun('run-reverted');
  } finally {
    await store.close();
  }
});
after(() => dir.remove());

const ids = (stdout: string): string[] =>
  stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(/\s+/)[0] ?? '');

describe('taskflow runs', { concurrency: true }, () => {
  test('list prints every run as an aligned table with id, name, state, factory and time', async () => {
    const { code, stdout } = await taskflow(['runs', 'list', '--store', url]);
    assert.equal(code, 0);
    const [header, ...rows] = stdout.trim().split('\n');
    assert.match(header ?? '', /^ID\s+NAME\s+STATE\s+FACTORY\s+UPDATED$/);
    assert.deepEqual(ids(stdout), ['run-ok', 'run-suspended', 'run-reverted', 'run-stuck']);
    assert.match(rows[0] ?? '', /^run-ok\s+provision\s+SUCCESS\s+provision@2\s+\d{4}-\d\d-\d\d /);
    // Aligned: every row starts its STATE column where the header does.
    const column = header?.indexOf('STATE') ?? -1;
    for (const row of rows) assert.match(row.slice(column), /^[A-Z]+ /);
  });

  test('--runs and $TASKFLOW_RUNS name the run store; --store and $TASKFLOW_STORE still work', async () => {
    const spelled = [
      await taskflow(['runs', 'list', '--runs', url, '--json']),
      await taskflow(['runs', 'list', '--store', url, '--json']),
      await taskflow(['runs', 'list', '--json'], { env: { TASKFLOW_RUNS: url } }),
      await taskflow(['runs', 'list', '--json'], { env: { TASKFLOW_STORE: url } }),
    ];
    for (const { code, stderr } of spelled) assert.equal(code, 0, stderr);
    const lists = spelled.map(({ stdout }) => stdout);
    assert.ok((JSON.parse(lists[0] ?? '{}') as { items: unknown[] }).items.length > 0);
    assert.deepEqual(new Set(lists).size, 1, 'every spelling reads the same store');
  });

  test('list --unfinished shows only the runs an operator must resume or resolve', async () => {
    const { code, stdout } = await taskflow(['runs', 'list', '--store', url, '--unfinished']);
    assert.equal(code, 0);
    assert.deepEqual(ids(stdout), ['run-suspended', 'run-stuck']);
    assert.match(stdout, /run-stuck\s+stuck\s+FAILURE/);
  });

  test('list --state filters by flow state, case-insensitively, and --json prints the details', async () => {
    const { code, stdout } = await taskflow(
      ['runs', 'list', '--state', 'suspended', '--state', 'REVERTED', '--json'],
      { env: { TASKFLOW_STORE: url } },
    );
    assert.equal(code, 0);
    const page = JSON.parse(stdout) as { items: { id: string; state: string }[]; next: null };
    assert.deepEqual(
      page.items.map((run) => [run.id, run.state]),
      [
        ['run-suspended', 'SUSPENDED'],
        ['run-reverted', 'REVERTED'],
      ],
    );
    assert.equal(page.next, null);
  });

  test('list --limit pages, and the hint on stderr gives the cursor of the next page', async () => {
    const first = await taskflow(['runs', 'list', '--store', url, '--limit', '3']);
    assert.equal(first.code, 0);
    assert.deepEqual(ids(first.stdout), ['run-ok', 'run-suspended', 'run-reverted']);
    const cursor = /--after (\S+)/.exec(first.stderr)?.[1];
    assert.ok(cursor, first.stderr);
    const second = await taskflow(['runs', 'list', '--store', url, '--after', cursor]);
    assert.deepEqual(ids(second.stdout), ['run-stuck']);
    assert.equal(second.stderr, '');
  });

  test('show prints the flow detail and each atom with state, intention, attempts and result', async () => {
    const { code, stdout } = await taskflow(['runs', 'show', 'run-suspended', '--store', url]);
    assert.equal(code, 0);
    assert.match(stdout, /^id:\s+run-suspended$/m);
    assert.match(stdout, /^state:\s+SUSPENDED$/m);
    assert.match(stdout, /^store:\s+\{"size":20\}$/m);
    assert.match(stdout, /ATOM\s+KIND\s+STATE\s+INTENTION\s+ATTEMPTS\s+RESULT \/ FAILURE/);
    assert.match(stdout, /^create\s+task\s+SUCCESS\s+EXECUTE\s+1\s+\{"done":"create"\}$/m);
  });

  test('show summarises failures and revert failures as "Type: message"', async () => {
    const reverted = await taskflow(['runs', 'show', 'run-reverted', '--store', url]);
    assert.match(
      reverted.stdout,
      /^charge\s+task\s+REVERTED\s+REVERT\s+1\s+failed: RangeError: charge ran out of quota$/m,
    );
    const stuck = await taskflow(['runs', 'show', 'run-stuck', '--store', url]);
    assert.match(
      stuck.stdout,
      /^lock\s+task\s+REVERT_FAILURE\s+REVERT\s+1\s+revert failed: Error: lock cannot be undone$/m,
    );
  });

  test('show --json prints exactly what the library loads, with the lease', async () => {
    const { code, stdout } = await taskflow([
      'runs',
      'show',
      'run-reverted',
      '--store',
      url,
      '--json',
    ]);
    assert.equal(code, 0);
    const { lease, ...run } = JSON.parse(stdout) as { lease: unknown };
    assert.deepEqual(run, stored);
    assert.deepEqual(Object.keys(lease as object).sort(), [
      'carriedByJob',
      'expiresAt',
      'owner',
      'token',
    ]);
    assert.equal((lease as { owner: unknown }).owner, null);
  });

  test('show of an unknown id exits 1 and says how to find the ids', async () => {
    const { code, stdout, stderr } = await taskflow(['runs', 'show', 'nope', '--store', url]);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /No run with id "nope".*taskflow runs list/);
  });

  test('without --store or TASKFLOW_STORE the store is .taskflow/runs.db; a reader never creates it', async () => {
    const cwd = tempDir('taskflow-cli-default-');
    try {
      const { code, stderr } = await taskflow(['runs', 'list'], { cwd: cwd.path });
      assert.equal(code, 2);
      assert.match(
        stderr,
        /The SQLite file ".taskflow\/runs.db" \(.*\) does not exist; check the path/,
      );
      assert.ok(
        !existsSync(join(cwd.path, '.taskflow')),
        'a command that only reads creates nothing',
      );
      const posted = await taskflow(
        ['jobs', 'post', '--name', 'n', '--flow', 'provision@2', '--store-json', '{}'],
        { cwd: cwd.path },
      );
      assert.equal(posted.code, 0, posted.stderr);
      assert.ok(
        existsSync(join(cwd.path, '.taskflow', 'jobs.db')),
        'a command that writes creates it',
      );
    } finally {
      cwd.remove();
    }
  });

  test('bad input exits 2 with a message naming the problem and the fix', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['runs', 'list', '--bogus'],
        /Unknown option "--bogus" in "taskflow runs list"; run "taskflow runs list --help"/,
      ],
      [['runs', 'list', '--limit', 'ten'], /--limit must be a whole number, got "ten"/],
      [
        ['runs', 'list', '--limit', '0'],
        /Page limit 0 is invalid; pass a whole number from 1 to 1000/,
      ],
      [
        ['runs', 'list', '--state', 'DONE'],
        /Flow state filter "DONE" is unknown; use any of PENDING/,
      ],
      [['runs', 'list', '--store'], /Option "--store" needs a value/],
      [['runs', 'show'], /"taskflow runs show" needs ID/],
      [['runs', 'show', 'a', 'b'], /does not take the argument\(s\) "b"/],
      [['runs', 'lst'], /"taskflow runs" has no subcommand "lst"; use one of list, show/],
      [
        ['runs', 'list', '--store', 'mysql://db'],
        /unsupported scheme "mysql:"; use one of memory:\/\//,
      ],
    ];
    const results = await Promise.all(
      cases.map(([args]) => taskflow(args.includes('--store') ? args : [...args, '--store', url])),
    );
    cases.forEach(([args, message], index) => {
      const { code, stderr } = results[index] ?? { code: -1, stderr: '' };
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, message);
    });
  });

  test('a mistyped store path exits 2 naming the path, and nothing is created', async () => {
    const missing = join(dir.path, 'no-such-folder', 'runs.db');
    const { code, stderr } = await taskflow(['runs', 'list', '--store', `sqlite://${missing}`]);
    assert.equal(code, 2);
    assert.match(stderr, /The SQLite file ".*no-such-folder\/runs.db" does not exist/);
    assert.ok(!existsSync(join(dir.path, 'no-such-folder')));
  });
});
