import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { registry as codeFlows } from '../../examples/service-flows.ts';
import { Conductor, type JobBoard, type RunChangeFeed, type RunStore } from '../../src/index.ts';
import {
  DefinitionRegistry,
  type DefinitionStore,
  FLOW_DOCUMENT_FORMAT,
  type RunningService,
  startService,
  type TokenStore,
} from '../../src/service/index.ts';
import { type RecordingServer, startRecordingServer } from '../documents/recording-server.ts';
import { ApiClient, assertProblem } from './api-client.ts';

/** What one suite runs on: a run store, a board, and the stores in the run store's database. */
export interface DefinitionBackends {
  readonly runs: RunStore;
  readonly board: JobBoard;
  readonly openTokens: () => Promise<TokenStore>;
  readonly openFeed: () => Promise<RunChangeFeed>;
  /** Opens the definitions table; each call is a connection of its own, as another process has. */
  readonly openDefinitions: () => Promise<DefinitionStore>;
}

/** A document with nested patterns, a conditional link, a retry, and http tasks. */
function provisionDocument(server: RecordingServer, version = '1') {
  return {
    format: FLOW_DOCUMENT_FORMAT,
    name: 'volume-order',
    version,
    description: 'creates a volume, checks it, and attaches it when it is ready',
    inputs: ['size', 'attachTo'],
    flow: {
      type: 'linear',
      retry: { type: 'times', name: 'order-retry', attempts: 2 },
      children: [
        {
          type: 'http',
          name: 'create-volume',
          method: 'POST',
          url: `${server.url}/volumes`,
          requires: ['size'],
          headers: { Authorization: 'Bearer {{ $secrets.volumes_token }}' },
          body: { size: '{{ size }}' },
          expect: [201],
          result: 'body.id',
          provides: 'volumeId',
          revert: { method: 'DELETE', url: `${server.url}/volumes/{{ $result }}` },
        },
        {
          type: 'graph',
          name: 'finish',
          children: [
            { type: 'noop', name: 'check', provides: 'health', result: { ready: true } },
            {
              type: 'http',
              name: 'attach',
              method: 'POST',
              url: `${server.url}/{{ attachTo }}`,
              requires: ['volumeId', 'attachTo'],
              body: { volume: '{{ volumeId }}' },
              expect: [201],
              provides: 'attachment',
            },
            { type: 'noop', name: 'report-broken', result: 'sorry' },
          ],
          links: [
            { from: 'check', to: 'attach', when: '$result.ready' },
            { from: 'check', to: 'report-broken', when: '$not($result.ready)', depth: 'ATOM' },
          ],
        },
      ],
    },
  };
}

/**
 * The definitions API over real HTTP: a service that stores documents (conductors: 0), and a
 * conductor with a registry of its own, opened before anything was stored, over another
 * connection to the same database, as a conductor process elsewhere would be.
 */
export function definitionsSuite(
  label: string,
  open: () => Promise<DefinitionBackends>,
  skip: string | false = false,
): void {
  describe(`flow definitions on ${label}`, { skip }, () => {
    let backends: DefinitionBackends;
    let server: RecordingServer;
    let tokenStore: TokenStore;
    let feed: RunChangeFeed;
    let served: DefinitionStore;
    let elsewhere: DefinitionStore;
    let registry: DefinitionRegistry;
    let conductorRegistry: DefinitionRegistry;
    let conductor: Conductor;
    let conducting: Promise<void>;
    let service: RunningService;
    let api: ApiClient;
    let reader: ApiClient;

    const http = () => ({ allowHosts: [server.host], secrets: { volumes_token: 'vt-1' } });

    before(async () => {
      backends = await open();
      server = await startRecordingServer();
      tokenStore = await backends.openTokens();
      feed = await backends.openFeed();
      served = await backends.openDefinitions();
      elsewhere = await backends.openDefinitions();
      registry = await DefinitionRegistry.open({ store: served, flows: codeFlows, http: http() });
      conductorRegistry = await DefinitionRegistry.open({ store: elsewhere, http: http() });
      conductor = new Conductor({
        board: backends.board,
        runs: backends.runs,
        registry: conductorRegistry,
        claimWaitMs: 100,
      });
      conducting = conductor.run();
      service = await startService({
        runs: backends.runs,
        board: backends.board,
        registry,
        feed,
        auth: { tokens: tokenStore },
        port: 0,
        conductors: 0,
        dashboard: false,
      });
      const operate = (await tokenStore.create('operate', 'definitions suite')).token;
      const read = (await tokenStore.create('read', 'definitions reader')).token;
      api = new ApiClient(service.url, { Authorization: `Bearer ${operate}` });
      reader = new ApiClient(service.url, { Authorization: `Bearer ${read}` });
    });

    after(async () => {
      await service?.close();
      await conductor?.stop();
      await conducting;
      await registry?.close();
      await conductorRegistry?.close();
      await served?.close();
      await elsewhere?.close();
      await tokenStore?.close();
      await feed?.close();
      await server?.close();
      await backends?.board.close();
      await backends?.runs.close();
    });

    const postYaml = (document: unknown, client = api) =>
      client.request('POST', '/v1/definitions', stringify(document), {
        'Content-Type': 'application/yaml',
      });

    it('stores a YAML document once, gives it back as stored, and refuses another under its version', async () => {
      const document = provisionDocument(server);
      const created = await postYaml(document);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.headers.get('location'), '/v1/definitions/volume-order/versions/1');
      assert.equal(created.body.name, 'volume-order');
      assert.deepEqual(created.body.inputs, ['size', 'attachTo']);
      assert.deepEqual(created.body.document, document);
      const again = await api.post('/v1/definitions', document);
      assert.equal(again.status, 200);
      assert.equal(again.body.digest, created.body.digest);
      const changed = { ...document, description: 'another document' };
      assertProblem(await api.post('/v1/definitions', changed), 409, 'definition-exists');
    });

    it('lists and shows definitions with their graph, and publishes the JSON Schema', async () => {
      const list = await reader.get('/v1/definitions');
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.items.map((d: { name: string; version: string }) => `${d.name}@${d.version}`),
        ['volume-order@1'],
      );
      const shown = await reader.get('/v1/definitions/volume-order');
      assert.equal(shown.status, 200);
      assert.deepEqual(shown.body.provides, ['volumeId', 'health', 'attachment']);
      assert.ok(shown.body.graph.edges.some((e: { decider: boolean }) => e.decider));
      const version = await reader.get('/v1/definitions/volume-order/versions/1');
      assert.equal(version.body.digest, shown.body.digest);
      assertProblem(
        await reader.get('/v1/definitions/volume-order/versions/9'),
        404,
        'definition-not-found',
      );
      const schema = await reader.get('/v1/schemas/flow-document');
      assert.equal(schema.status, 200);
      assert.equal(schema.body.properties.format.const, FLOW_DOCUMENT_FORMAT);
      const flows = await reader.get('/v1/flows');
      assert.ok(flows.body.items.some((f: { name: string }) => f.name === 'volume-order'));
      const openapi = await reader.get('/v1/openapi.json');
      for (const path of [
        '/v1/definitions',
        '/v1/definitions/{name}',
        '/v1/definitions/{name}/versions/{version}',
        '/v1/schemas/flow-document',
      ]) {
        assert.ok(openapi.body.paths[path], `the OpenAPI document lacks ${path}`);
      }
      assert.ok(openapi.body.paths['/v1/definitions'].post.requestBody.content['application/yaml']);
    });

    it('runs a definition through a conductor that rebuilds it from the stored document', async () => {
      server.requests.length = 0;
      const posted = await api.post('/v1/runs', {
        flow: 'volume-order',
        version: '1',
        inputs: { size: 20, attachTo: 'attachments' },
      });
      assert.equal(posted.status, 202, JSON.stringify(posted.body));
      const job = await backends.board.wait(posted.body.id);
      assert.equal(job.outcome?.state, 'SUCCESS', JSON.stringify(job.outcome));
      const run = (await reader.get(`/v1/runs/${posted.body.id}`)).body;
      const states = Object.fromEntries(
        run.atoms.map((a: { name: string; state: string }) => [a.name, a.state]),
      );
      assert.deepEqual(states, {
        'order-retry': 'SUCCESS',
        'create-volume': 'SUCCESS',
        check: 'SUCCESS',
        attach: 'SUCCESS',
        'report-broken': 'IGNORE',
      });
      const calls = server.requests.map((r) => `${r.method} ${r.url}`);
      assert.deepEqual(calls, ['POST /volumes', 'POST /attachments']);
      const [create] = server.requests;
      assert.equal(create?.headers.authorization, 'Bearer vt-1');
      assert.equal(create?.headers['idempotency-key'], `${posted.body.id}:create-volume`);
      assert.deepEqual(JSON.parse(create?.body ?? ''), { size: 20 });
    });

    it('reverts a definition run: the revert request reads the execute result, with its own key', async () => {
      server.requests.length = 0;
      const posted = await api.post('/v1/runs', {
        flow: 'volume-order',
        inputs: { size: 1, attachTo: 'fail' },
      });
      assert.equal(posted.status, 202, JSON.stringify(posted.body));
      const job = await backends.board.wait(posted.body.id);
      assert.equal(job.outcome?.state, 'REVERTED');
      const id = posted.body.id as string;
      const creates = server.requests.filter((r) => r.method === 'POST' && r.url === '/volumes');
      const deletes = server.requests.filter((r) => r.method === 'DELETE');
      // The retry tried the flow twice: each attempt created a volume and deleted it again.
      assert.equal(creates.length, 2);
      assert.deepEqual(
        deletes.map((r) => r.headers['idempotency-key']),
        [`${id}:create-volume:revert`, `${id}:create-volume:revert`],
      );
      assert.match(deletes[0]?.url ?? '', /^\/volumes\/vol-\d+$/);
      const run = (await reader.get(`/v1/runs/${id}`)).body;
      const attach = run.atoms.find((a: { name: string }) => a.name === 'attach');
      assert.match(attach.failure.message, /got status 500/);
    });

    it('refuses a run of a definition without its inputs, and of a version never stored', async () => {
      const missing = await api.post('/v1/runs', { flow: 'volume-order', inputs: { size: 1 } });
      assertProblem(missing, 400, 'missing-input');
      assert.deepEqual(missing.body.errors, [
        { path: 'inputs.attachTo', message: 'required by the flow' },
      ]);
      const unknown = await api.post('/v1/runs', {
        flow: 'volume-order',
        version: '7',
        inputs: { size: 1, attachTo: 'x' },
      });
      assertProblem(unknown, 404, 'unknown-flow');
    });

    it('refuses a bad document with every problem and its JSON path, storing nothing', async () => {
      const bad = provisionDocument(server, '2') as Record<string, unknown> & {
        flow: { children: Record<string, unknown>[] };
      };
      bad.flow.children[0] = { ...bad.flow.children[0], url: 'http://10.0.0.1/volumes' };
      bad.flow.children.push({ type: 'noop', name: 'check' });
      const response = await api.post('/v1/definitions', bad);
      assertProblem(response, 400, 'invalid-document');
      assert.deepEqual(
        response.body.errors.map((e: { code: string; path: string }) => `${e.code} ${e.path}`),
        ['HOST_NOT_ALLOWED $.flow.children[0].url', 'DUPLICATE_NAME $.flow.children[2].name'],
      );
      const yamlSyntax = await api.request('POST', '/v1/definitions', 'a: [1,', {
        'Content-Type': 'application/yaml',
      });
      assertProblem(yamlSyntax, 400, 'invalid-document');
      const list = await reader.get('/v1/definitions');
      assert.equal(list.body.items.length, 1);
    });

    it('lets only operators store definitions, and refuses a name a code flow has', async () => {
      assertProblem(await postYaml(provisionDocument(server, '3'), reader), 403, 'forbidden');
      const taken = await api.post('/v1/definitions', {
        ...provisionDocument(server),
        name: 'provision',
      });
      assertProblem(taken, 400, 'invalid-document');
      assert.equal(taken.body.errors[0].code, 'NAME_TAKEN');
      const text = await api.request('POST', '/v1/definitions', 'x', {
        'Content-Type': 'text/plain',
      });
      assertProblem(text, 415, 'unsupported-media-type');
    });

    it('continues a definition run in another conductor, from the stored document, after a stop', async () => {
      const document = {
        format: FLOW_DOCUMENT_FORMAT,
        name: 'slow-order',
        version: '1',
        flow: {
          type: 'linear',
          children: [
            { type: 'noop', name: 'first', provides: 'one', result: 1 },
            { type: 'sleep', name: 'pause', durationMs: 200 },
            { type: 'noop', name: 'last', requires: ['one'], provides: 'two', result: 2 },
          ],
        },
      };
      assert.equal((await api.post('/v1/definitions', document)).status, 201);
      await conductor.stop();
      await conducting;
      // Its own registry, opened before the definition was stored: it loads it when needed.
      const firstRegistry = await DefinitionRegistry.open({ store: elsewhere, http: http() });
      const first = new Conductor({
        board: backends.board,
        runs: backends.runs,
        registry: firstRegistry,
        claimWaitMs: 100,
      });
      const running = first.run();
      const posted = await api.post('/v1/runs', { flow: 'slow-order', inputs: {} });
      assert.equal(posted.status, 202);
      const id = posted.body.id as string;
      // Stop it once it is pausing: the run is suspended and the job given back.
      for (;;) {
        const run = await backends.runs.loadRun(id);
        if (run?.atoms.some((a) => a.name === 'pause' && a.state === 'RUNNING')) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await first.stop();
      await running;
      await firstRegistry.close();
      assert.equal((await backends.board.get(id))?.state, 'UNCLAIMED');
      conductor = new Conductor({
        board: backends.board,
        runs: backends.runs,
        registry: conductorRegistry,
        claimWaitMs: 100,
      });
      conducting = conductor.run();
      const job = await backends.board.wait(id);
      assert.equal(job.outcome?.state, 'SUCCESS');
      const run = await backends.runs.loadRun(id);
      const byName = Object.fromEntries((run?.atoms ?? []).map((a) => [a.name, a]));
      assert.equal(byName.first?.state, 'SUCCESS');
      assert.equal(byName.last?.state, 'SUCCESS');
      assert.equal(byName.first?.attempts, 1, 'the first task ran once, before the stop');
    });
  });
}
