import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { FLOW_DOCUMENT_FORMAT } from '../../src/service/index.ts';
import { taskflow } from '../cli/cli-harness.ts';
import { type RecordingServer, startRecordingServer } from '../documents/recording-server.ts';
import { testServers } from '../support/servers.ts';

const servers = await testServers('definitions-cli');
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

describe('taskflow definitions, against taskflow serve with no --flows', () => {
  let target: RecordingServer;
  let url: string;
  let stop: () => Promise<void>;
  const file = (name: string, text: string): string => {
    const path = join(servers.dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    target = await startRecordingServer();
    const secrets = file('secrets.json', JSON.stringify({ volumes_token: 'cli-secret' }));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'serve',
        '--runs',
        `sqlite://${join(servers.dir, 'runs.db')}`,
        '--board',
        `sqlite://${join(servers.dir, 'jobs.db')}`,
        '--port',
        '0',
        // The API only: the runs are done by a "taskflow conductor --definitions" process.
        '--conductors',
        '0',
        '--no-auth',
        '--allow-host',
        target.host,
        '--secrets',
        secrets,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let errors = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      errors += chunk;
    });
    url = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        const found = /^(http:\/\/\S+)$/m.exec(chunk);
        if (found) resolve(found[1] as string);
      });
      void exited.then(() => reject(new Error(`taskflow serve exited: ${errors}`)));
    });
    stop = async () => {
      child.kill('SIGTERM');
      await exited;
    };
  });

  after(async () => {
    await stop?.();
    await target?.close();
  });

  const document = {
    format: FLOW_DOCUMENT_FORMAT,
    name: 'cli-order',
    version: '1',
    inputs: ['size'],
  };

  it('stores a YAML file, says so again without storing it twice, lists and shows it', async () => {
    const yaml = stringify({
      ...document,
      flow: {
        type: 'linear',
        children: [
          {
            type: 'http',
            name: 'create',
            method: 'POST',
            url: `${target.url}/volumes`,
            requires: ['size'],
            headers: { Authorization: 'Bearer {{ $secrets.volumes_token }}' },
            body: { size: '{{ size }}' },
            result: 'body.id',
            provides: 'volumeId',
          },
        ],
      },
    });
    const path = file('order.yaml', yaml);
    const put = await taskflow(['definitions', 'put', path, '--url', url]);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(put.stdout, 'Definition cli-order version 1 stored.\n');
    const again = await taskflow(['definitions', 'put', path, '--url', url]);
    assert.equal(again.stdout, 'Definition cli-order version 1 already stored, unchanged.\n');
    const ls = await taskflow(['definitions', 'ls'], { env: { TASKFLOW_URL: url } });
    assert.match(ls.stdout, /^NAME\s+VERSION\s+STORED\s+DIGEST$/m);
    assert.match(ls.stdout, /^cli-order\s+1\s+/m);
    const show = await taskflow(['definitions', 'show', 'cli-order', '--url', url]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^inputs:\s+size$/m);
    assert.match(show.stdout, /^provides:\s+volumeId$/m);
    const json = await taskflow(['definitions', 'show', 'cli-order', '--url', url, '--json']);
    assert.equal(JSON.parse(json.stdout).document.name, 'cli-order');
  });

  it('runs the stored definition in a conductor process of its own, with the secret from its --secrets file', async () => {
    const conductor = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'conductor',
        '--definitions',
        '--runs',
        `sqlite://${join(servers.dir, 'runs.db')}`,
        '--board',
        `sqlite://${join(servers.dir, 'jobs.db')}`,
        '--allow-host',
        target.host,
        '--secrets',
        join(servers.dir, 'secrets.json'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    conductor.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk;
    });
    conductor.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk;
    });
    let gone = false;
    const exited = new Promise<number | null>((resolve) => conductor.once('exit', resolve));
    // A conductor that dies ends the wait below instead of hanging it.
    void exited.then(() => {
      gone = true;
    });
    const posted = await fetch(`${url}/v1/runs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ flow: 'cli-order', inputs: { size: 3 } }),
    });
    assert.equal(posted.status, 202);
    const { id } = (await posted.json()) as { id: string };
    let state = 'PENDING';
    while (!gone && state !== 'SUCCESS' && state !== 'REVERTED' && state !== 'FAILURE') {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = ((await (await fetch(`${url}/v1/runs/${id}`)).json()) as { state: string }).state;
    }
    conductor.kill('SIGTERM');
    assert.equal(await exited, 0, log);
    assert.equal(state, 'SUCCESS', log);
    assert.match(log, /completed job .* \(cli-order\): SUCCESS/);
    const [request] = target.requests;
    assert.equal(request?.headers.authorization, 'Bearer cli-secret');
    assert.equal(request?.headers['idempotency-key'], `${id}:create`);
  });

  it('refuses a bad document with its problems and exit status 1, and a missing file with 2', async () => {
    const bad = file(
      'bad.json',
      JSON.stringify({
        ...document,
        version: '2',
        flow: { type: 'linear', children: [{ type: 'nope' }] },
      }),
    );
    const refused = await taskflow(['definitions', 'put', bad, '--url', url]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /\$\.flow\.children\[0\]\.type: a child has type "nope"/);
    const missing = await taskflow([
      'definitions',
      'put',
      join(servers.dir, 'none.yaml'),
      '--url',
      url,
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Cannot read .*none\.yaml.*ENOENT/);
    const unknown = await taskflow(['definitions', 'show', 'nothing', '--url', url]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No definition named "nothing" is stored/);
  });
});
