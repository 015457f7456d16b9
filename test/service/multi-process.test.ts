import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ConductorProcess, startConductor } from '../support/conductors.ts';
import { POSTGRES_URL, testServers } from '../support/servers.ts';
import { ApiClient } from './api-client.ts';
import { collectEvents, type ReceivedEvent } from './sse-client.ts';

const servers = await testServers('service-multi-process');
const root = fileURLToPath(new URL('../../', import.meta.url));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** `taskflow serve` with no conductors in its own process; resolves with its URL. */
function startServe(runsUrl: string, boardUrl: string): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'serve',
      '--flows',
      'test/service/fixtures/work-flows.ts',
      '--runs',
      runsUrl,
      '--board',
      boardUrl,
      '--port',
      '0',
      '--conductors',
      '0',
      '--no-auth',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('\n')) resolve(output.split('\n')[0] as string);
    });
    child.once('exit', () => reject(new Error(`serve exited early: ${output}`)));
  });
}

const changeOf = (event: ReceivedEvent) => JSON.parse(event.data);
const done = (events: readonly ReceivedEvent[]) =>
  events.some((e) => changeOf(e).atom === null && changeOf(e).state === 'SUCCESS');

describe('two services and separate conductors on PostgreSQL', { skip: servers.pgSkip }, () => {
  it('streams, from the other service, every change of a run a conductor process executes, across a SIGKILL takeover', async () => {
    const runsUrl = `${POSTGRES_URL}?schema=${servers.schemas.next()}`;
    const boardUrl = `${POSTGRES_URL}?schema=${servers.schemas.next()}`;
    const first = await startServe(runsUrl, boardUrl);
    const second = await startServe(runsUrl, boardUrl);
    const effects = join(servers.dir, 'effects.log');
    writeFileSync(effects, '');
    const env = {
      BOARD_URL: boardUrl,
      RUNS_URL: runsUrl,
      EFFECTS: effects,
      TTL_MS: '1000',
      SLOW_MS: '60000',
    };
    const doomed: ConductorProcess = await startConductor('doomed', env);
    children.push(doomed.child);

    const posted = await new ApiClient(first).post('/v1/runs', {
      flow: 'work',
      inputs: { job: 'j1', fail: false },
    });
    assert.equal(posted.status, 202);
    const id = posted.body.id as string;
    let killed = false;
    let successor: Promise<ConductorProcess> | undefined;
    const streamed = await collectEvents(`${second}/v1/runs/${id}/events`, {}, (events) => {
      if (!killed && events.some((e) => changeOf(e).atom === 'two')) {
        // "two" is running (it takes a minute in this conductor): kill it mid-atom and start
        // another, which takes the job over once the lease has expired.
        killed = true;
        doomed.child.kill('SIGKILL');
        successor = doomed.exited.then(() =>
          startConductor('successor', { ...env, SLOW_MS: '30' }),
        );
      }
      return done(events);
    });
    children.push((await (successor as Promise<ConductorProcess>)).child);

    const lines = streamed.events.map((e) => {
      const change = changeOf(e);
      return `${change.atom ?? 'run'} ${change.state}`;
    });
    assert.equal(lines[0], 'run PENDING');
    assert.equal(lines.at(-1), 'run SUCCESS');
    const order = ['one SUCCESS', 'two RUNNING', 'two SUCCESS', 'three SUCCESS'];
    const positions = order.map((line) => lines.indexOf(line));
    assert.ok(
      positions.every((p) => p >= 0),
      lines.join(' | '),
    );
    assert.deepEqual(
      [...positions].sort((a, b) => a - b),
      positions,
    );

    // The stream from the second service is the whole record, as the first service reads it.
    const replay = await collectEvents(`${first}/v1/runs/${id}/events`, {}, done);
    assert.deepEqual(streamed.events, replay.events);

    const run = (await new ApiClient(first).get(`/v1/runs/${id}`)).body;
    const two = run.atoms.find((a: { name: string }) => a.name === 'two');
    assert.equal(two.attempts, 2);
    assert.equal(run.job.owner, 'successor');
    const starts = readFileSync(effects, 'utf8')
      .split('\n')
      .filter((line) => line.includes(' start j1 two '));
    assert.deepEqual(
      starts.map((line) => line.split(' ')[4]),
      ['doomed', 'successor'],
    );
  });
  it('cancels, through one service, a run a conductor process executes, and the other service streams its revert', async () => {
    const runsUrl = `${POSTGRES_URL}?schema=${servers.schemas.next()}`;
    const boardUrl = `${POSTGRES_URL}?schema=${servers.schemas.next()}`;
    const first = await startServe(runsUrl, boardUrl);
    const second = await startServe(runsUrl, boardUrl);
    const effects = join(servers.dir, 'cancel-effects.log');
    writeFileSync(effects, '');
    const env = {
      BOARD_URL: boardUrl,
      RUNS_URL: runsUrl,
      EFFECTS: effects,
      TTL_MS: '10000',
      SLOW_MS: '1500',
    };
    const worker = await startConductor('worker', env);
    children.push(worker.child);
    const api = new ApiClient(first);
    const posted = await api.post('/v1/runs', { flow: 'work', inputs: { job: 'j2', fail: false } });
    const id = posted.body.id as string;
    let cancel: Promise<{ status: number }> | undefined;
    const reverted = (events: readonly ReceivedEvent[]) =>
      events.some((e) => changeOf(e).atom === null && changeOf(e).state === 'REVERTED');
    const streamed = await collectEvents(`${second}/v1/runs/${id}/events`, {}, (events) => {
      const twoRuns = events.some(
        (e) => changeOf(e).atom === 'two' && changeOf(e).state === 'RUNNING',
      );
      if (cancel === undefined && twoRuns) {
        cancel = api.post(`/v1/runs/${id}/cancel`, { reason: 'ordered twice' });
      }
      return reverted(events);
    });
    assert.equal((await (cancel as Promise<{ status: number }>)).status, 202);

    const lines = streamed.events.map((e) => `${changeOf(e).atom ?? 'run'} ${changeOf(e).state}`);
    for (const line of ['two SUCCESS', 'two REVERTED', 'one REVERTED', 'run REVERTED']) {
      assert.ok(lines.includes(line), `${line} in ${lines.join(' | ')}`);
    }
    assert.ok(!lines.includes('three RUNNING'), 'three never started');
    const run = (await api.get(`/v1/runs/${id}`)).body;
    assert.equal(run.job.outcome.state, 'REVERTED');
    assert.match(
      run.job.outcome.failure.message,
      /cancelled by "anonymous \(auth is off\)": ordered twice/,
    );
    assert.deepEqual(
      run.actions.map((a: { action: string; reason: string }) => [a.action, a.reason]),
      [['cancel', 'ordered twice']],
    );
    const done = readFileSync(effects, 'utf8')
      .split('\n')
      .filter((line) => line.includes(' j2 '))
      .map((line) => line.split(' ').slice(1, 4).join(' '));
    assert.deepEqual(done, [
      'start j2 one',
      'end j2 one',
      'start j2 two',
      'end j2 two',
      'revert j2 two',
      'revert j2 one',
    ]);
    worker.child.kill('SIGTERM');
    await worker.exited;
  });
});
