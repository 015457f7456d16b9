import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registry } from '../../examples/service-flows.ts';
import type { JobBoard, RunChangeFeed, RunStore } from '../../src/index.ts';
import { type RunningService, startService, type TokenStore } from '../../src/service/index.ts';
import { actionCases } from './action-cases.ts';
import { ApiClient, assertProblem } from './api-client.ts';
import { authCases } from './auth-cases.ts';
import { badInputCases } from './bad-input-cases.ts';
import { eventCases } from './event-cases.ts';

/** A run store and a board for one suite, and how to close them. */
export interface SuiteBackends {
  readonly runs: RunStore;
  readonly board: JobBoard;
  /** Opens the token table in the run store's database (after the run store is open). */
  readonly openTokens: () => Promise<TokenStore>;
  /** Opens the run store's change feed (after the run store is open). */
  readonly openFeed: () => Promise<RunChangeFeed>;
}

/** Bearer tokens of each scope, made for one suite. */
export interface SuiteTokens {
  readonly read: string;
  readonly operate: string;
  readonly admin: string;
}

/** What a suite's extra cases get once the service is up. */
export interface SuiteContext {
  readonly backends: SuiteBackends;
  readonly service: RunningService;
  /** Calls the service with an operate token. */
  readonly api: ApiClient;
  readonly tokens: SuiteTokens;
  readonly tokenStore: TokenStore;
}

/**
 * The API over real HTTP (the service on a free port, one in-process conductor) on the
 * backends `open` gives; each backend's test file calls this once.
 */
export function apiSuite(
  label: string,
  open: () => Promise<SuiteBackends>,
  skip: string | false = false,
): void {
  describe(`service API on ${label}`, { skip }, () => {
    let backends: SuiteBackends;
    let tokenStore: TokenStore;
    let feed: RunChangeFeed;
    let service: RunningService;
    let api: ApiClient;
    let tokens: SuiteTokens;

    before(async () => {
      backends = await open();
      tokenStore = await backends.openTokens();
      feed = await backends.openFeed();
      tokens = {
        read: (await tokenStore.create('read', 'suite reader')).token,
        operate: (await tokenStore.create('operate', 'suite operator')).token,
        admin: (await tokenStore.create('admin', 'suite admin')).token,
      };
      service = await startService({
        runs: backends.runs,
        board: backends.board,
        registry,
        feed,
        auth: { tokens: tokenStore },
        port: 0,
        conductors: 1,
        // A 500's cause, in the test's output.
        onError: (error, requestId) => console.error(`service error ${requestId}:`, error),
      });
      api = new ApiClient(service.url, { Authorization: `Bearer ${tokens.operate}` });
    });

    after(async () => {
      await service?.close();
      await tokenStore?.close();
      await feed?.close();
      await backends?.board.close();
      await backends?.runs.close();
    });

    const context = (): SuiteContext => ({ backends, service, api, tokens, tokenStore });
    authCases(context);
    badInputCases(context);
    eventCases(context);
    actionCases(context);

    /** Posts a run and waits until its job is finished. */
    async function runToEnd(flow: string, inputs: Record<string, unknown>) {
      const posted = await api.post('/v1/runs', { flow, inputs });
      assert.equal(posted.status, 202, JSON.stringify(posted.body));
      await backends.board.wait(posted.body.id);
      const run = await api.get(`/v1/runs/${posted.body.id}`);
      assert.equal(run.status, 200);
      return run.body;
    }

    it('lists the served flows with versions, inputs, outputs and graphs', async () => {
      const { status, body } = await api.get('/v1/flows');
      assert.equal(status, 200);
      assert.deepEqual(
        body.items.map((f: { name: string }) => f.name),
        ['provision', 'review', 'flaky-charge', 'slow-report'],
      );
      const provision = body.items[0];
      assert.equal(provision.version, '1');
      assert.deepEqual(provision.requires, ['size', 'serverName']);
      assert.deepEqual(provision.provides, ['volumeId', 'serverId']);
      assert.deepEqual(
        provision.graph.nodes.map((n: { name: string; kind: string }) => `${n.kind}:${n.name}`),
        ['linear:provision', 'task:create-volume', 'task:boot-server'],
      );
      assert.deepEqual(provision.graph.edges, [
        { from: 'a0', to: 'a1', label: null, decider: false },
      ]);
      assert.equal(provision.inputSchema.properties.size.type, 'integer');
      assert.equal(provision.inputSchema.properties.size.description, 'volume size in GiB');
      assert.deepEqual(provision.inputSchema.required, ['size', 'serverName']);
      const review = body.items[1];
      assert.equal(review.inputSchema, null, 'a flow without a schema');
      assert.ok(review.graph.edges.some((e: { decider: boolean }) => e.decider));
    });

    it('runs a posted flow through the conductor and shows the run, its atoms and its job', async () => {
      const posted = await api.post('/v1/runs', {
        flow: 'provision',
        inputs: { size: 10, serverName: 'web' },
      });
      assert.equal(posted.status, 202);
      assert.equal(posted.headers.get('location'), `/v1/runs/${posted.body.id}`);
      assert.deepEqual(posted.body.flow, { name: 'provision', version: '1' });
      assert.equal(posted.body.links.events, `/v1/runs/${posted.body.id}/events`);
      await backends.board.wait(posted.body.id);
      const { status, body } = await api.get(`/v1/runs/${posted.body.id}`);
      assert.equal(status, 200);
      assert.equal(body.state, 'SUCCESS');
      assert.deepEqual(body.inputs, { size: 10, serverName: 'web' });
      assert.deepEqual(
        body.atoms.map((a: { name: string; state: string; attempts: number; result: unknown }) => [
          a.name,
          a.state,
          a.attempts,
          a.result,
        ]),
        [
          ['create-volume', 'SUCCESS', 1, 'vol-10gb'],
          ['boot-server', 'SUCCESS', 1, 'web@vol-10gb'],
        ],
      );
      assert.equal(body.job.state, 'COMPLETE');
      assert.equal(body.job.outcome.state, 'SUCCESS');
    });

    it('shows a reverted run with the failure of the atom that failed, without stack traces', async () => {
      const run = await runToEnd('provision', { size: 1, serverName: 'db', failBoot: true });
      assert.equal(run.state, 'REVERTED');
      const [volume, boot] = run.atoms;
      assert.equal(volume.state, 'REVERTED');
      assert.equal(boot.failure.message, 'server db did not boot');
      assert.equal(boot.failure.stack, undefined);
      assert.equal(run.job.outcome.state, 'REVERTED');
    });

    it('shows the retry history of a flow that succeeds on its third attempt', async () => {
      const run = await runToEnd('flaky-charge', { amount: 5 });
      assert.equal(run.state, 'SUCCESS');
      const retry = run.atoms.find((a: { kind: string }) => a.kind === 'retry');
      assert.equal(retry.history.length, 3);
      assert.match(retry.history[0].failures.charge.message, /busy \(attempt 1\)/);
      const charge = run.atoms.find((a: { name: string }) => a.name === 'charge');
      assert.equal(charge.result, 'receipt for 5 on attempt 3');
    });

    it('shows the atoms a decider ignored', async () => {
      const run = await runToEnd('review', { quantity: 9 });
      assert.equal(run.state, 'SUCCESS');
      const states = Object.fromEntries(
        run.atoms.map((a: { name: string; state: string }) => [a.name, a.state]),
      );
      assert.deepEqual(states, { 'check-order': 'SUCCESS', approve: 'IGNORE', ship: 'IGNORE' });
    });

    it('reports progress on a slow flow', async () => {
      const run = await runToEnd('slow-report', { steps: 2, stepMs: 1 });
      assert.equal(run.atoms[0].progress, 1);
      assert.equal(run.atoms[1].result, 'report on data of 2 steps');
    });

    it('refuses a run that lacks an input, naming it, and stores nothing', async () => {
      const jobsBefore = (await backends.board.list({ limit: 1000 })).items.length;
      const response = await api.post('/v1/runs', { flow: 'review', inputs: { other: 1 } });
      assertProblem(response, 400, 'missing-input');
      assert.match(response.body.detail, /"quantity"/);
      assert.deepEqual(response.body.errors, [
        { path: 'inputs.quantity', message: 'required by the flow' },
      ]);
      assert.equal((await backends.board.list({ limit: 1000 })).items.length, jobsBefore);
    });

    it("refuses inputs the flow's schema does not accept, naming each, and stores nothing", async () => {
      const jobsBefore = (await backends.board.list({ limit: 1000 })).items.length;
      const response = await api.post('/v1/runs', {
        flow: 'provision',
        inputs: { size: 'ten', serverName: '', failBoot: 'no' },
      });
      assertProblem(response, 400, 'invalid-input');
      assert.deepEqual(
        response.body.errors.map((e: { path: string }) => e.path),
        ['inputs.size', 'inputs.serverName', 'inputs.failBoot'],
      );
      assert.match(response.body.detail, /Flow "provision" refuses these inputs: inputs.size: /);
      assert.equal((await backends.board.list({ limit: 1000 })).items.length, jobsBefore);
    });

    it('returns the first run again for a retried post with the same Idempotency-Key', async () => {
      const body = { flow: 'review', inputs: { quantity: 1 } };
      const first = await api.post('/v1/runs', body, { 'Idempotency-Key': 'order-17' });
      const again = await api.post('/v1/runs', body, { 'Idempotency-Key': 'order-17' });
      assert.equal(first.status, 202);
      assert.equal(again.status, 202);
      assert.equal(again.body.id, first.body.id);
      const jobs = await backends.board.list({ name: 'review', limit: 1000 });
      assert.equal(jobs.items.filter((j) => j.idempotencyKey === 'order-17').length, 1);
      assertProblem(
        await api.post('/v1/runs', { ...body, runId: 'order-17' }),
        409,
        'idempotency-conflict',
        'a runId that was used as a key for a run of another id',
      );
    });

    it('runs under the id a runId names, listed at once, and returns it again for the same runId', async () => {
      const body = { flow: 'review', inputs: { quantity: 2 }, runId: 'my-order-18' };
      const first = await api.post('/v1/runs', body);
      assert.equal(first.status, 202, JSON.stringify(first.body));
      assert.equal(first.body.id, 'my-order-18');
      assert.equal(first.headers.get('location'), '/v1/runs/my-order-18');
      const listed = await backends.runs.loadRun('my-order-18');
      assert.ok(listed, 'the run is stored as soon as it is posted');
      assert.equal(listed.flow.factory?.name, 'review');
      const again = await api.post('/v1/runs', body, { 'Idempotency-Key': 'my-order-18' });
      assert.equal(again.body.id, 'my-order-18');
      await backends.board.wait('my-order-18');
      const run = await api.get('/v1/runs/my-order-18');
      assert.deepEqual([run.body.state, run.body.job.outcome.state], ['SUCCESS', 'SUCCESS']);
    });

    it('refuses an unknown flow with 404 and another version with 409', async () => {
      assertProblem(await api.post('/v1/runs', { flow: 'nope', inputs: {} }), 404, 'unknown-flow');
      assertProblem(
        await api.post('/v1/runs', { flow: 'review', version: '7', inputs: { quantity: 1 } }),
        409,
        'version-not-served',
      );
    });

    it('lists runs with state and flow filters, creation bounds and cursor paging', async () => {
      await runToEnd('provision', { size: 2, serverName: 'a' });
      await runToEnd('provision', { size: 3, serverName: 'b' });
      const all = await api.get('/v1/runs?flow=provision&state=SUCCESS');
      assert.equal(all.status, 200);
      assert.ok(all.body.items.length >= 3);
      for (const run of all.body.items) {
        assert.equal(run.state, 'SUCCESS');
        assert.equal(run.flow.name, 'provision');
      }
      const seen: string[] = [];
      let next: string | null = null;
      do {
        const path: string = `/v1/runs?flow=provision&state=success&limit=1${next ? `&after=${next}` : ''}`;
        const page = await api.get(path);
        assert.equal(page.status, 200);
        assert.ok(page.body.items.length <= 1);
        seen.push(...page.body.items.map((r: { id: string }) => r.id));
        next = page.body.next;
      } while (next !== null);
      assert.deepEqual(
        seen,
        all.body.items.map((r: { id: string }) => r.id),
      );
      const last = all.body.items.at(-1);
      const newest = await api.get(
        `/v1/runs?flow=provision&createdAfter=${new Date(last.createdAt).toISOString()}`,
      );
      assert.ok(newest.body.items.some((r: { id: string }) => r.id === last.id));
      assert.ok(
        newest.body.items.every((r: { createdAt: number }) => r.createdAt >= last.createdAt),
      );
      const older = await api.get(
        `/v1/runs?createdBefore=${new Date(last.createdAt).toISOString()}`,
      );
      assert.ok(older.body.items.every((r: { createdAt: number }) => r.createdAt < last.createdAt));
      assertProblem(await api.get('/v1/runs?state=DONE'), 400, 'invalid-query');
    });

    it('lists, shows, redrives and trashes jobs', async () => {
      const run = await runToEnd('review', { quantity: 2 });
      const listed = await api.get('/v1/jobs?state=COMPLETE&name=review');
      assert.equal(listed.status, 200);
      assert.ok(listed.body.items.some((j: { id: string }) => j.id === run.id));
      const shown = await api.get(`/v1/jobs/${run.id}`);
      assert.equal(shown.body.state, 'COMPLETE');
      assertProblem(await api.post(`/v1/jobs/${run.id}/redrive`), 409, 'job-not-dead-lettered');
      const trashed = await api.post(`/v1/jobs/${run.id}/trash`);
      assert.equal(trashed.status, 204);
      assertProblem(await api.get(`/v1/jobs/${run.id}`), 404, 'job-not-found');
      assertProblem(await api.post(`/v1/jobs/${run.id}/trash`), 404, 'job-not-found');
      assertProblem(await api.post('/v1/jobs/nope/redrive'), 404, 'job-not-found');
    });

    it('answers health, readiness and the live conductors', async () => {
      assert.deepEqual((await api.get('/healthz')).body, { status: 'ok' });
      const ready = await api.get('/readyz');
      assert.equal(ready.status, 200);
      const conductors = await api.get('/v1/conductors');
      assert.equal(conductors.status, 200);
      assert.deepEqual(
        conductors.body.items.map((c: { name: string }) => c.name),
        service.conductors.map((c) => c.name),
      );
    });

    it('answers unknown routes, unknown runs and malformed requests with problem documents', async () => {
      assertProblem(await api.get('/v2/anything'), 404, 'not-found');
      assertProblem(await api.get('/v1/runs/no-such-run'), 404, 'run-not-found');
      assertProblem(
        await api.request('POST', '/v1/runs', '{"flow":', { 'Content-Type': 'application/json' }),
        400,
        'malformed-json',
      );
      assertProblem(
        await api.post('/v1/runs', { flow: 'review', inputs: { quantity: 1 }, extra: true }),
        400,
        'invalid-request',
      );
      assertProblem(await api.post('/v1/runs', { inputs: {} }), 400, 'invalid-request');
      assertProblem(await api.post('/v1/runs', { flow: 3, inputs: {} }), 400, 'invalid-request');
      assertProblem(await api.get('/v1/runs?limit=0'), 400, 'invalid-request');
      assertProblem(await api.get('/v1/runs?bogus=1'), 400, 'invalid-request');
    });

    it('refuses a body over 1 MiB with 413', async () => {
      const big = JSON.stringify({
        flow: 'review',
        inputs: { quantity: 1, pad: 'x'.repeat(1024 * 1024) },
      });
      assertProblem(
        await api.request('POST', '/v1/runs', big, { 'Content-Type': 'application/json' }),
        413,
        'body-too-large',
      );
    });

    it('refuses prototype keys in inputs, so none reaches a prototype, and stores nothing', async () => {
      const jobsBefore = (await backends.board.list({ limit: 1000 })).items.length;
      for (const payload of [
        '{"flow":"review","inputs":{"quantity":1,"__proto__":{"polluted":true}}}',
        '{"flow":"review","inputs":{"quantity":1,"nested":{"constructor":{"prototype":{"polluted":true}}}}}',
        '{"flow":"review","inputs":{"quantity":1e999}}',
      ]) {
        const response = await api.request('POST', '/v1/runs', payload, {
          'Content-Type': 'application/json',
        });
        assert.equal(response.status, 400, payload);
        assert.equal(response.headers.get('content-type'), 'application/problem+json');
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal((await backends.board.list({ limit: 1000 })).items.length, jobsBefore);
    });
  });
}
