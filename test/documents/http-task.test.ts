import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compileDocument, WorkerConditionEvaluator } from '../../src/documents/index.ts';
import { Engine, TaskFlowError } from '../../src/index.ts';
import { type RecordingServer, startRecordingServer } from './recording-server.ts';

describe('http tasks', () => {
  let server: RecordingServer;
  const conditions = new WorkerConditionEvaluator();

  before(async () => {
    server = await startRecordingServer();
  });
  after(async () => {
    await server.close();
    await conditions.close();
  });

  function compile(children: unknown[], inputs: string[] = []) {
    return compileDocument(
      {
        format: 'taskflow.flow/v1',
        name: 'provision',
        version: '1',
        inputs,
        flow: { type: 'linear', children },
      },
      { http: { allowHosts: [server.host], secrets: { api_token: 's3cret' } }, conditions },
    ).flow;
  }

  const createVolume = () => ({
    type: 'http',
    name: 'create-volume',
    method: 'POST',
    url: `${server.url}/volumes?zone={{ zone }}`,
    requires: ['size', 'owner'],
    rebind: { size: 'volumeSize' },
    inject: { owner: 'ann' },
    optional: { zone: 'eu/1' },
    headers: { Authorization: 'Bearer {{ $secrets.api_token }}' },
    body: { size: '{{ size }}', label: 'volume of {{ owner }}' },
    expect: [201],
    result: 'body.id',
    provides: 'volumeId',
    revert: { method: 'DELETE', url: `${server.url}/volumes/{{ $result }}` },
  });

  it('sends the request its templates build, with the secret and the idempotency key, and provides the selected result', async () => {
    server.requests.length = 0;
    const engine = new Engine(compile([createVolume()], ['volumeSize']), {
      store: { volumeSize: 10 },
      runId: 'run-a',
    });
    const result = await engine.run();
    assert.equal(result.state, 'SUCCESS');
    assert.deepEqual(engine.outputs(), { volumeId: 'vol-1' });
    const [request] = server.requests;
    assert.equal(request?.method, 'POST');
    // The optional default "eu/1" is one path-safe value: its slash is encoded.
    assert.equal(request?.url, '/volumes?zone=eu%2F1');
    assert.equal(request?.headers.authorization, 'Bearer s3cret');
    assert.equal(request?.headers['idempotency-key'], 'run-a:create-volume');
    assert.equal(request?.headers['content-type'], 'application/json');
    // A template that is one expression keeps the value's type; others become text.
    assert.deepEqual(JSON.parse(request?.body ?? ''), { size: 10, label: 'volume of ann' });
  });

  it('reverts with its revert request, reading the execute result, after a later task fails', async () => {
    server.requests.length = 0;
    const flow = compile(
      [
        createVolume(),
        {
          type: 'http',
          name: 'attach',
          method: 'POST',
          url: `${server.url}/fail`,
          requires: ['volumeId'],
          body: { volume: '{{ volumeId }}' },
        },
      ],
      ['volumeSize'],
    );
    const engine = new Engine(flow, { store: { volumeSize: 5 }, runId: 'run-b' });
    await assert.rejects(engine.run(), (error: unknown) => {
      assert.ok(error instanceof TaskFlowError);
      assert.equal(error.code, 'HTTP_STATUS');
      assert.match(
        error.message,
        /got status 500 from POST http:\/\/127\.0\.0\.1:\d+\/fail, expected 200-299/,
      );
      // A 5xx may succeed on another attempt.
      assert.equal(error.retryable, true);
      return true;
    });
    assert.equal(engine.state, 'REVERTED');
    const seen = server.requests.map((r) => `${r.method} ${r.url} ${r.headers['idempotency-key']}`);
    const created = 'vol-2';
    assert.deepEqual(seen, [
      'POST /volumes?zone=eu%2F1 run-b:create-volume',
      'POST /fail run-b:attach',
      `DELETE /volumes/${created} run-b:create-volume:revert`,
    ]);
    assert.deepEqual(JSON.parse(server.requests[1]?.body ?? ''), { volume: created });
  });

  it('fails with an error naming the template when an expression has no value for the inputs', async () => {
    const flow = compile([
      { type: 'http', name: 'get', method: 'GET', url: `${server.url}/volumes/{{ missing }}` },
    ]);
    await assert.rejects(
      new Engine(flow).run(),
      /\{\{ missing \}\}.*has no value for these inputs/,
    );
  });

  it('does not follow a redirect, so a redirect cannot lead it off the allow-list', async () => {
    const redirecting = await startRecordingServer(() => ({
      status: 302,
      headers: { Location: 'http://169.254.169.254/latest/meta-data' },
    }));
    try {
      const flow = compileDocument(
        {
          format: 'taskflow.flow/v1',
          name: 'hop',
          version: '1',
          flow: {
            type: 'linear',
            children: [{ type: 'http', name: 'hop', method: 'GET', url: `${redirecting.url}/x` }],
          },
        },
        { http: { allowHosts: [redirecting.host], secrets: {} }, conditions },
      ).flow;
      await assert.rejects(new Engine(flow).run(), /got status 302 .* expected 200-299/);
      assert.equal(redirecting.requests.length, 1);
    } finally {
      await redirecting.close();
    }
  });
});
