import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registry } from '../../examples/service-flows.ts';
import {
  createSqliteJobBoard,
  createSqliteRunStore,
  openRunChangeFeed,
  type RunChangeFeed,
} from '../../src/index.ts';
import {
  createServiceApp,
  OPENAPI_PATH,
  type RunningService,
  startService,
} from '../../src/service/index.ts';
import {
  ConductorListSchema,
  FlowListSchema,
  HealthSchema,
  JobListSchema,
  JobSchema,
  ProblemSchema,
  RunCreatedSchema,
  RunListSchema,
  RunSchema,
} from '../../src/service/schemas.ts';
import { testServers } from '../support/servers.ts';
import { ApiClient } from './api-client.ts';

const servers = await testServers('service-openapi');

interface OpenApiDocument {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
}

describe('OpenAPI document', () => {
  const path = join(servers.dir, 'runs.db');
  const runs = createSqliteRunStore({ path });
  const board = createSqliteJobBoard({ path: join(servers.dir, 'jobs.db') });
  let feed: RunChangeFeed;
  let service: RunningService;
  let api: ApiClient;
  let document: OpenApiDocument;

  before(async () => {
    feed = await openRunChangeFeed(`sqlite://${path}`);
    service = await startService({ runs, board, registry, feed, auth: 'none', conductors: 1 });
    api = new ApiClient(service.url);
    document = (await api.get(OPENAPI_PATH)).body;
  });

  after(async () => {
    await service.close();
    await feed.close();
    await board.close();
    await runs.close();
  });

  it('is OpenAPI 3.1 and describes every route the app serves', () => {
    assert.equal(document.openapi, '3.1.0');
    // The API's routes: the dashboard's static files are not part of it.
    const app = createServiceApp({ runs, board, registry, feed, auth: 'none', dashboard: false });
    const served = app.routes
      .filter((route) => route.method !== 'ALL' && route.path !== OPENAPI_PATH)
      .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`);
    const described = Object.entries(document.paths).flatMap(([p, methods]) =>
      Object.keys(methods).map((method) => `${method} ${p}`),
    );
    assert.ok(served.length >= 14, served.join(', '));
    assert.deepEqual([...new Set(served)].sort(), [...described].sort());
  });

  it('answers each route with a status its description lists and a body its schema accepts', async () => {
    const posted = await api.post('/v1/runs', { flow: 'review', inputs: { quantity: 1 } });
    await board.wait(posted.body.id);
    const id = posted.body.id as string;
    const checks = [
      { method: 'post', route: '/v1/runs', response: posted, schema: RunCreatedSchema },
      {
        method: 'get',
        route: '/v1/flows',
        response: await api.get('/v1/flows'),
        schema: FlowListSchema,
      },
      {
        method: 'get',
        route: '/v1/runs',
        response: await api.get('/v1/runs'),
        schema: RunListSchema,
      },
      {
        method: 'get',
        route: '/v1/runs/{id}',
        response: await api.get(`/v1/runs/${id}`),
        schema: RunSchema,
      },
      {
        method: 'get',
        route: '/v1/jobs',
        response: await api.get('/v1/jobs'),
        schema: JobListSchema,
      },
      {
        method: 'get',
        route: '/v1/jobs/{id}',
        response: await api.get(`/v1/jobs/${id}`),
        schema: JobSchema,
      },
      {
        method: 'get',
        route: '/v1/conductors',
        response: await api.get('/v1/conductors'),
        schema: ConductorListSchema,
      },
      {
        method: 'get',
        route: '/healthz',
        response: await api.get('/healthz'),
        schema: HealthSchema,
      },
      { method: 'get', route: '/readyz', response: await api.get('/readyz'), schema: HealthSchema },
      {
        method: 'post',
        route: '/v1/jobs/{id}/redrive',
        response: await api.post(`/v1/jobs/${id}/redrive`),
        schema: ProblemSchema,
      },
      {
        method: 'get',
        route: '/v1/runs/{id}',
        response: await api.get('/v1/runs/nope'),
        schema: ProblemSchema,
      },
    ];
    for (const { method, route, response, schema } of checks) {
      const operation = document.paths[route]?.[method];
      assert.ok(operation, `${method} ${route} is not described`);
      assert.ok(
        String(response.status) in operation.responses,
        `${method} ${route} answered ${response.status}, which its description does not list`,
      );
      assert.doesNotThrow(() => schema.strict().parse(response.body), `${method} ${route}`);
    }
  });
});
