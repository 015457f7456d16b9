import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ApiResponse } from './api-client.ts';
import type { SuiteContext } from './api-suite.ts';

/** Polls the run until `check` holds for it (10 s at most). */
async function runWhen(
  context: SuiteContext,
  id: string,
  // biome-ignore lint/suspicious/noExplicitAny: a run document of the API.
  check: (run: any) => boolean,
  what: string,
  // biome-ignore lint/suspicious/noExplicitAny: a run document of the API.
): Promise<any> {
  const started = Date.now();
  for (;;) {
    const { body } = await context.api.get(`/v1/runs/${id}`);
    if (check(body)) return body;
    if (Date.now() - started > 10_000)
      assert.fail(`run ${id} never ${what}: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Asserts a problem document of `status` whose type is `kind` and whose detail matches. */
function refused(response: ApiResponse, status: number, kind: string | RegExp, detail?: RegExp) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  const type = String(response.body.type).replace('urn:taskflow-ts:problem:', '');
  if (typeof kind === 'string') assert.equal(type, kind);
  else assert.match(type, kind);
  if (detail !== undefined) assert.match(response.body.detail, detail);
}

const ended = (run: { job: { state: string } | null }) => run.job?.state === 'COMPLETE';

/** Operator actions over HTTP, on the suite's service and its conductor. */
export function actionCases(context: () => SuiteContext): void {
  it('suspends a running run, lists the actions it allows, and resumes it to the end', async () => {
    const ctx = context();
    const posted = await ctx.api.post('/v1/runs', {
      flow: 'slow-report',
      inputs: { steps: 4, stepMs: 100 },
    });
    const { id } = posted.body;
    const running = await runWhen(ctx, id, (run) => run.state === 'RUNNING', 'ran');
    assert.deepEqual(running.allowedActions, ['suspend', 'cancel']);
    const suspended = await ctx.api.post(`/v1/runs/${id}/suspend`, { reason: 'maintenance' });
    assert.equal(suspended.status, 202, JSON.stringify(suspended.body));
    assert.equal(suspended.body.action.action, 'suspend');
    assert.equal(suspended.body.action.by, 'suite operator');
    assert.equal(suspended.body.job.request.action, 'suspend');
    const parked = await runWhen(ctx, id, ended, 'parked');
    assert.equal(parked.state, 'SUSPENDED');
    assert.deepEqual(parked.job.outcome, { state: 'SUSPENDED' });
    assert.deepEqual(parked.allowedActions, ['resume', 'cancel']);
    refused(
      await ctx.api.post(`/v1/runs/${id}/suspend`),
      409,
      'invalid-state',
      /is SUSPENDED; "suspend" applies to a run that is PENDING or RUNNING or RESUMING/,
    );

    assert.equal((await ctx.api.post(`/v1/runs/${id}/resume`)).status, 202);
    const done = await runWhen(ctx, id, (run) => ended(run) && run.state === 'SUCCESS', 'finished');
    assert.deepEqual(
      done.actions.map((a: { action: string; by: string; reason?: string }) => [
        a.action,
        a.by,
        a.reason ?? null,
      ]),
      [
        ['suspend', 'suite operator', 'maintenance'],
        ['resume', 'suite operator', null],
      ],
    );
    const audit = await ctx.api.get(`/v1/runs/${id}/actions`);
    assert.equal(audit.status, 200);
    assert.deepEqual([audit.body.items.length, audit.body.pending], [2, null]);
  });

  it('cancels a running run, reverting what it did, or without revert stopping where it stands', async () => {
    const ctx = context();
    for (const revert of [true, false]) {
      const posted = await ctx.api.post('/v1/runs', {
        flow: 'slow-report',
        inputs: { steps: 5, stepMs: 100 },
      });
      const { id } = posted.body;
      await runWhen(ctx, id, (run) => run.state === 'RUNNING', 'ran');
      const cancelled = await ctx.api.post(`/v1/runs/${id}/cancel${revert ? '' : '?revert=false'}`);
      assert.equal(cancelled.status, 202, JSON.stringify(cancelled.body));
      assert.equal(cancelled.body.action.revert, revert);
      const run = await runWhen(ctx, id, ended, 'ended');
      assert.equal(run.state, revert ? 'REVERTED' : 'FAILURE');
      assert.equal(run.job.outcome.state, revert ? 'REVERTED' : 'FAILURE');
      assert.match(run.job.outcome.failure.message, /cancelled by "suite operator"/);
      const publish = run.atoms.find((atom: { name: string }) => atom.name === 'publish-report');
      assert.equal(publish?.state ?? 'PENDING', 'PENDING', 'nothing started after the cancel');
    }
  });

  it('finishes a failed revert by hand and redrives the run, with who did it in its audit list', async () => {
    const ctx = context();
    const posted = await ctx.api.post('/v1/runs', {
      flow: 'provision',
      inputs: { size: 3, serverName: 'stuck', failBoot: true, failRelease: true },
    });
    const { id } = posted.body;
    const stuck = await runWhen(ctx, id, ended, 'ended');
    assert.equal(stuck.state, 'FAILURE');
    const volume = stuck.atoms.find((atom: { name: string }) => atom.name === 'create-volume');
    assert.equal(volume.state, 'REVERT_FAILURE');
    assert.deepEqual(volume.allowedActions, ['retry-revert', 'skip-revert', 'resolve']);
    assert.deepEqual(stuck.allowedActions, ['redrive']);
    refused(
      await ctx.api.post(`/v1/runs/${id}/atoms/boot-server/skip-revert`),
      409,
      'invalid-state',
      /Atom "boot-server" is (FAILURE|REVERTED); "skip-revert" applies to an atom in REVERT_FAILURE/,
    );
    refused(
      await ctx.api.post(`/v1/runs/${id}/atoms/create-volume/resolve`, {}),
      400,
      'invalid-request',
      /body.result/,
    );
    const resolved = await ctx.api.post(`/v1/runs/${id}/atoms/create-volume/resolve`, {
      result: { releasedBy: 'hand' },
      reason: 'detached in the console',
    });
    assert.equal(resolved.status, 202, JSON.stringify(resolved.body));
    const reverted = await runWhen(
      ctx,
      id,
      (run) => ended(run) && run.state === 'REVERTED',
      'reverted',
    );
    const released = reverted.atoms.find((atom: { name: string }) => atom.name === 'create-volume');
    assert.deepEqual([released.state, released.revertResult], ['REVERTED', { releasedBy: 'hand' }]);

    assert.equal((await ctx.api.post(`/v1/runs/${id}/redrive`)).status, 202);
    const again = await runWhen(
      ctx,
      id,
      (run) => ended(run) && run.actions.length === 2,
      'redriven',
    );
    assert.equal(again.state, 'FAILURE', 'the same inputs fail the same way again');
    assert.deepEqual(
      again.actions.map((a: { action: string; atom?: string }) => [a.action, a.atom ?? null]),
      [
        ['resolve', 'create-volume'],
        ['redrive', null],
      ],
    );
  });

  it('refuses actions without the operate scope, on unknown runs and with bad bodies, storing nothing', async () => {
    const ctx = context();
    const posted = await ctx.api.post('/v1/runs', { flow: 'review', inputs: { quantity: 1 } });
    const { id } = posted.body;
    await runWhen(ctx, id, ended, 'ended');
    const reader = ctx.api.withHeaders({ Authorization: `Bearer ${ctx.tokens.read}` });
    refused(await reader.post(`/v1/runs/${id}/cancel`), 403, 'forbidden');
    refused(await ctx.api.post('/v1/runs/nope/cancel'), 404, 'not-found', /No run has id "nope"/);
    refused(await ctx.api.post(`/v1/runs/${id}/cancel?revert=maybe`), 400, 'invalid-request');
    refused(await ctx.api.post(`/v1/runs/${id}/suspend`, { why: 1 }), 400, 'invalid-request');
    refused(
      await ctx.api.request(
        'POST',
        `/v1/runs/${id}/suspend`,
        '{"reason":"x","__proto__":{"a":1}}',
        {
          'Content-Type': 'application/json',
        },
      ),
      400,
      'forbidden-key',
    );
    refused(
      await ctx.api.post(`/v1/runs/${id}/redrive`),
      409,
      'invalid-state',
      /is SUCCESS; "redrive" applies to a run that is REVERTED or FAILURE/,
    );
    const after = await ctx.api.get(`/v1/runs/${id}`);
    assert.deepEqual([after.body.actions, after.body.job.request], [[], null]);
  });
}
