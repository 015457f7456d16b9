import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type ApiResponse, assertProblem } from './api-client.ts';
import type { SuiteContext } from './api-suite.ts';

/** One bad request and the answer it must get. */
interface BadRequest {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** A JSON body as text, sent with Content-Type: application/json. */
  readonly body?: string;
  /** The bearer token to send: a scope's token, none, or a made-up one. */
  readonly token?: 'read' | 'operate' | 'none' | 'forged';
  readonly headers?: Readonly<Record<string, string>>;
  readonly status: number;
  readonly kind: string;
}

const review = (rest: string): string => `{"flow":"review",${rest}}`;

const CASES: readonly BadRequest[] = [
  { name: 'no body', method: 'POST', path: '/v1/runs', status: 400, kind: 'malformed-json' },
  {
    name: 'malformed JSON',
    method: 'POST',
    path: '/v1/runs',
    body: '{"flow": "review",',
    status: 400,
    kind: 'malformed-json',
  },
  {
    name: 'a JSON array',
    method: 'POST',
    path: '/v1/runs',
    body: '[]',
    status: 400,
    kind: 'invalid-request',
  },
  {
    name: 'missing flow',
    method: 'POST',
    path: '/v1/runs',
    body: '{"inputs":{}}',
    status: 400,
    kind: 'invalid-request',
  },
  {
    name: 'flow of the wrong type',
    method: 'POST',
    path: '/v1/runs',
    body: '{"flow":7,"inputs":{}}',
    status: 400,
    kind: 'invalid-request',
  },
  {
    name: 'empty flow name',
    method: 'POST',
    path: '/v1/runs',
    body: '{"flow":"","inputs":{}}',
    status: 400,
    kind: 'invalid-request',
  },
  {
    name: 'inputs as an array',
    method: 'POST',
    path: '/v1/runs',
    body: review('"inputs":[1]'),
    status: 400,
    kind: 'invalid-request',
  },
  {
    name: 'inputs as a string',
    method: 'POST',
    path: '/v1/runs',
    body: review('"inputs":"quantity=1"'),
    status: 400,
    kind: 'invalid-request',
  },
  {
    name: 'version of the wrong type',
    method: 'POST',
    path: '/v1/runs',
    body: review('"version":1,"inputs":{"quantity":1}'),
    status: 400,
    kind: 'invalid-request',
  },
  {
    name: 'an extra field',
    method: 'POST',
    path: '/v1/runs',
    body: review('"inputs":{"quantity":1},"priority":5'),
    status: 400,
    kind: 'invalid-request',
  },
  {
    name: 'a missing input',
    method: 'POST',
    path: '/v1/runs',
    body: review('"inputs":{}'),
    status: 400,
    kind: 'missing-input',
  },
  {
    name: 'an unknown flow',
    method: 'POST',
    path: '/v1/runs',
    body: '{"flow":"nope","inputs":{}}',
    status: 404,
    kind: 'unknown-flow',
  },
  {
    name: '__proto__ in inputs',
    method: 'POST',
    path: '/v1/runs',
    body: review('"inputs":{"quantity":1,"__proto__":{"admin":true}}'),
    status: 400,
    kind: 'forbidden-key',
  },
  {
    name: 'constructor.prototype deep in inputs',
    method: 'POST',
    path: '/v1/runs',
    body: review('"inputs":{"quantity":1,"a":[{"constructor":{"prototype":{"admin":true}}}]}'),
    status: 400,
    kind: 'forbidden-key',
  },
  {
    name: '__proto__ at the top of the body',
    method: 'POST',
    path: '/v1/runs',
    body: review('"inputs":{"quantity":1},"__proto__":{"admin":true}'),
    status: 400,
    kind: 'forbidden-key',
  },
  {
    name: 'a number JSON cannot store back',
    method: 'POST',
    path: '/v1/runs',
    body: review('"inputs":{"quantity":1e999}'),
    status: 400,
    kind: 'not-storable',
  },
  {
    name: 'a body over 1 MiB',
    method: 'POST',
    path: '/v1/runs',
    body: review(`"inputs":{"quantity":1,"pad":"${'x'.repeat(1024 * 1024)}"}`),
    status: 413,
    kind: 'body-too-large',
  },
  {
    name: 'an Idempotency-Key that is too long',
    method: 'POST',
    path: '/v1/runs',
    body: review('"inputs":{"quantity":1}'),
    headers: { 'Idempotency-Key': 'k'.repeat(201) },
    status: 400,
    kind: 'invalid-idempotency-key',
  },
  {
    name: 'an Idempotency-Key that differs from runId',
    method: 'POST',
    path: '/v1/runs',
    body: review('"inputs":{"quantity":1},"runId":"a"'),
    headers: { 'Idempotency-Key': 'b' },
    status: 400,
    kind: 'conflicting-keys',
  },
  {
    name: 'no token',
    method: 'POST',
    path: '/v1/runs',
    body: review('"inputs":{"quantity":1}'),
    token: 'none',
    status: 401,
    kind: 'unauthorized',
  },
  {
    name: 'a forged token',
    method: 'POST',
    path: '/v1/runs',
    body: review('"inputs":{"quantity":1}'),
    token: 'forged',
    status: 401,
    kind: 'unauthorized',
  },
  {
    name: 'a read token',
    method: 'POST',
    path: '/v1/runs',
    body: review('"inputs":{"quantity":1}'),
    token: 'read',
    status: 403,
    kind: 'forbidden',
  },
  {
    name: 'an unknown run state',
    method: 'GET',
    path: '/v1/runs?state=DONE',
    status: 400,
    kind: 'invalid-query',
  },
  {
    name: 'a limit that is no number',
    method: 'GET',
    path: '/v1/runs?limit=ten',
    status: 400,
    kind: 'invalid-request',
  },
  {
    name: 'a limit over 1000',
    method: 'GET',
    path: '/v1/runs?limit=5000',
    status: 400,
    kind: 'invalid-request',
  },
  {
    name: 'a creation bound that is no date',
    method: 'GET',
    path: '/v1/runs?createdAfter=yesterday',
    status: 400,
    kind: 'invalid-request',
  },
  {
    name: 'an unknown query parameter',
    method: 'GET',
    path: '/v1/runs?sort=desc',
    status: 400,
    kind: 'invalid-request',
  },
  {
    name: 'a run cursor this store did not make',
    method: 'GET',
    path: '/v1/runs?after=garbage',
    status: 400,
    kind: 'invalid-argument',
  },
  {
    name: 'an unknown run',
    method: 'GET',
    path: '/v1/runs/no-such-run',
    status: 404,
    kind: 'run-not-found',
  },
  {
    name: 'runs without a token',
    method: 'GET',
    path: '/v1/runs',
    token: 'none',
    status: 401,
    kind: 'unauthorized',
  },
  {
    name: 'an unknown job state',
    method: 'GET',
    path: '/v1/jobs?state=LOST',
    status: 400,
    kind: 'invalid-query',
  },
  {
    name: 'a job limit of 0',
    method: 'GET',
    path: '/v1/jobs?limit=0',
    status: 400,
    kind: 'invalid-request',
  },
  {
    name: 'a job cursor this board did not make',
    method: 'GET',
    path: '/v1/jobs?after=garbage',
    status: 400,
    kind: 'invalid-argument',
  },
  {
    name: 'an unknown job',
    method: 'GET',
    path: '/v1/jobs/no-such-job',
    status: 404,
    kind: 'job-not-found',
  },
  {
    name: 'trashing an unknown job',
    method: 'POST',
    path: '/v1/jobs/no-such-job/trash',
    status: 404,
    kind: 'job-not-found',
  },
  {
    name: 'redriving an unknown job',
    method: 'POST',
    path: '/v1/jobs/no-such-job/redrive',
    status: 404,
    kind: 'job-not-found',
  },
  {
    name: 'trashing with a read token',
    method: 'POST',
    path: '/v1/jobs/no-such-job/trash',
    token: 'read',
    status: 403,
    kind: 'forbidden',
  },
  {
    name: 'conductors with a forged token',
    method: 'GET',
    path: '/v1/conductors',
    token: 'forged',
    status: 401,
    kind: 'unauthorized',
  },
  { name: 'an unknown route', method: 'GET', path: '/v1/nothing', status: 404, kind: 'not-found' },
  {
    name: 'a wrong method',
    method: 'POST',
    path: '/v1/flows',
    body: '{}',
    status: 404,
    kind: 'not-found',
  },
];

/** The bad-input table: every case gets its status and a problem document, and nothing is stored. */
export function badInputCases(context: () => SuiteContext): void {
  it('answers every bad request with the right status and a problem document, storing nothing', async () => {
    const { api, backends, tokens } = context();
    const stored = async () => ({
      jobs: (await backends.board.list({ limit: 1000 })).items.length,
      runs: (await backends.runs.listFlows({ limit: 1000 })).items.length,
    });
    const before = await stored();
    for (const bad of CASES) {
      const authorization = {
        operate: `Bearer ${tokens.operate}`,
        read: `Bearer ${tokens.read}`,
        forged: 'Bearer tfs_forged',
        none: '',
      }[bad.token ?? 'operate'];
      const response: ApiResponse = await api.request(bad.method, bad.path, bad.body, {
        ...(bad.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        Authorization: authorization,
        ...bad.headers,
      });
      assertProblem(response, bad.status, bad.kind, bad.name);
      assert.doesNotMatch(JSON.stringify(response.body), /tfs_/, `${bad.name}: a token leaked`);
    }
    assert.deepEqual(await stored(), before);
    assert.equal(({} as Record<string, unknown>).admin, undefined);
  });
}
