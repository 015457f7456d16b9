import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { taskflow } from './cli-harness.ts';

describe('taskflow help', { concurrency: true }, () => {
  test('"help" and "--help" list every command and exit 0', async () => {
    for (const args of [['help'], ['--help']]) {
      const { code, stdout } = await taskflow(args);
      assert.equal(code, 0);
      for (const command of [
        'runs list',
        'runs show',
        'runs resume',
        'runs prune',
        'jobs list',
        'jobs show',
        'jobs post',
        'jobs wait',
        'jobs redrive',
        'jobs trash',
        'jobs prune',
        'jobs conductors',
        'conductor',
        'definitions put',
        'definitions ls',
        'definitions show',
      ]) {
        assert.match(stdout, new RegExp(`^  ${command}\\s`, 'm'));
      }
    }
  });

  test('"COMMAND --help" and "help COMMAND" print its usage and every option', async () => {
    const direct = await taskflow(['jobs', 'post', '--help']);
    assert.equal(direct.code, 0);
    assert.match(direct.stdout, /^Usage: taskflow jobs post \[OPTIONS\]$/m);
    for (const option of [
      '--board URL',
      '--name NAME',
      '--flow FACTORY[@VERSION]',
      '--store-json JSON',
      '--priority P',
      '--key IDEMPOTENCY_KEY',
    ]) {
      assert.ok(direct.stdout.includes(`  ${option}`), option);
    }
    const viaHelp = await taskflow(['help', 'jobs', 'post']);
    assert.equal(viaHelp.stdout, direct.stdout);
    const show = await taskflow(['runs', 'show', '--help']);
    assert.match(show.stdout, /^Usage: taskflow runs show ID \[OPTIONS\]$/m);
    assert.match(show.stdout, /--state STATE \.\.\.|--store URL/);
  });

  test('an unknown or missing command exits 2 and points to "taskflow help"', async () => {
    const unknown = await taskflow(['flows', 'list']);
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /Unknown command "flows"; the commands are runs, jobs, conductor, serve, tokens, definitions and help\. Run "taskflow help"/,
    );
    const none = await taskflow([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^Usage: taskflow COMMAND/m);
    const badHelp = await taskflow(['help', 'jobs', 'nope']);
    assert.equal(badHelp.code, 2);
    assert.match(badHelp.stderr, /no command "jobs nope"/);
  });
});
