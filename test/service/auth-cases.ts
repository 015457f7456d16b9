import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertProblem } from './api-client.ts';
import type { SuiteContext } from './api-suite.ts';

/** Bearer tokens and scopes, on the suite's service. */
export function authCases(context: () => SuiteContext): void {
  it('refuses requests without a token or with an unknown one, without echoing the token', async () => {
    const { api } = context();
    const anonymous = api.withHeaders({ Authorization: '' });
    const missing = await anonymous.get('/v1/runs');
    assertProblem(missing, 401, 'unauthorized');
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await api
      .withHeaders({ Authorization: 'Bearer tfs_not-a-real-token-secret' })
      .get('/v1/flows');
    assertProblem(wrong, 401, 'unauthorized');
    assert.doesNotMatch(JSON.stringify(wrong.body), /not-a-real-token-secret/);
    assertProblem(
      await api.withHeaders({ Authorization: 'Basic dXNlcjpwYXNz' }).get('/v1/flows'),
      401,
      'unauthorized',
    );
  });

  it('lets read tokens read, operate tokens act, and admin tokens do both', async () => {
    const { api, tokens } = context();
    const reader = api.withHeaders({ Authorization: `Bearer ${tokens.read}` });
    assert.equal((await reader.get('/v1/flows')).status, 200);
    const refused = await reader.post('/v1/runs', { flow: 'review', inputs: { quantity: 1 } });
    assertProblem(refused, 403, 'forbidden');
    assert.match(refused.body.detail, /scope "operate"/);
    assertProblem(await reader.post('/v1/jobs/any/trash'), 403, 'forbidden');
    const admin = api.withHeaders({ Authorization: `Bearer ${tokens.admin}` });
    assert.equal((await admin.get('/v1/jobs')).status, 200);
    const posted = await admin.post('/v1/runs', { flow: 'review', inputs: { quantity: 1 } });
    assert.equal(posted.status, 202);
  });

  it('stops accepting a revoked token at once', async () => {
    const { api, tokenStore } = context();
    const made = await tokenStore.create('read', 'short-lived');
    const client = api.withHeaders({ Authorization: `Bearer ${made.token}` });
    assert.equal((await client.get('/v1/flows')).status, 200);
    assert.equal(await tokenStore.revoke(made.id), true);
    assertProblem(await client.get('/v1/flows'), 401, 'unauthorized');
  });

  it('keeps tokens only as hashes', async () => {
    const { tokenStore, tokens } = context();
    const listed = JSON.stringify(await tokenStore.list());
    for (const token of Object.values(tokens)) assert.equal(listed.includes(token), false);
  });

  it('serves health, readiness and the OpenAPI document without a token', async () => {
    const anonymous = context().api.withHeaders({ Authorization: '' });
    assert.equal((await anonymous.get('/healthz')).status, 200);
    assert.equal((await anonymous.get('/readyz')).status, 200);
    assert.equal((await anonymous.get('/v1/openapi.json')).status, 200);
  });
  it("tells the caller its token's label and scope", async () => {
    const { api, tokens } = context();
    const reader = api.withHeaders({ Authorization: `Bearer ${tokens.read}` });
    const me = await reader.get('/v1/whoami');
    assert.deepEqual(me.body, { label: 'suite reader', scope: 'read', auth: true });
    assertProblem(
      await api.withHeaders({ Authorization: '' }).get('/v1/whoami'),
      401,
      'unauthorized',
    );
  });

  it('manages tokens over HTTP with the admin scope only, showing a new token once', async () => {
    const { api, tokens } = context();
    const admin = api.withHeaders({ Authorization: `Bearer ${tokens.admin}` });
    assertProblem(await api.get('/v1/tokens'), 403, 'forbidden');
    const made = await admin.post('/v1/tokens', { scope: 'read', label: 'dashboard kiosk' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual(
      [made.body.scope, made.body.label, made.body.revokedAt],
      ['read', 'dashboard kiosk', null],
    );
    const kiosk = api.withHeaders({ Authorization: `Bearer ${made.body.token}` });
    assert.equal((await kiosk.get('/v1/flows')).status, 200);
    const listed = await admin.get('/v1/tokens');
    const entry = listed.body.items.find((t: { id: string }) => t.id === made.body.id);
    assert.equal(entry.label, 'dashboard kiosk');
    assert.doesNotMatch(
      JSON.stringify(listed.body),
      new RegExp(made.body.token),
      'never the token itself',
    );
    assertProblem(
      await admin.post('/v1/tokens', { scope: 'root', label: 'x' }),
      400,
      'invalid-request',
    );
    assert.equal((await admin.post(`/v1/tokens/${made.body.id}/revoke`)).status, 204);
    assertProblem(await kiosk.get('/v1/flows'), 401, 'unauthorized');
    assertProblem(await admin.post('/v1/tokens/nope/revoke'), 404, 'token-not-found');
  });
}
