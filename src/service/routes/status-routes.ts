import { createRoute, z } from '@hono/zod-openapi';
import { TOKEN_SCOPES } from '../auth/token-store.ts';
import { jsonResponse, problemResponses } from '../openapi-responses.ts';
import { ConductorListSchema, HealthSchema } from '../schemas.ts';
import type { ServiceDeps } from '../service-deps.ts';
import type { ServiceApp } from '../service-env.ts';

const health = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'The process is up',
  responses: { 200: jsonResponse(HealthSchema, 'up') },
});

const ready = createRoute({
  method: 'get',
  path: '/readyz',
  summary: 'The run store and the jobboard answer',
  responses: { 200: jsonResponse(HealthSchema, 'ready'), ...problemResponses(503) },
});

const conductors = createRoute({
  method: 'get',
  path: '/v1/conductors',
  summary: 'Live conductors with their claims and lease expiries',
  responses: {
    200: jsonResponse(ConductorListSchema, 'the live conductors'),
    ...problemResponses(401, 503),
  },
});

const whoami = createRoute({
  method: 'get',
  path: '/v1/whoami',
  summary: "The caller: its token's label and scope (what a client may show it)",
  responses: {
    200: jsonResponse(
      z
        .object({
          label: z.string(),
          scope: z.enum(TOKEN_SCOPES),
          auth: z.boolean().openapi({ description: 'false when the service checks no token' }),
        })
        .openapi('Caller'),
      'the caller',
    ),
    ...problemResponses(401),
  },
});

/** The most claimed jobs read to show conductors' claims. */
const MAX_LISTED_CLAIMS = 1000;

/** `GET /healthz`, `GET /readyz`, `GET /v1/conductors`, `GET /v1/whoami`. */
export function registerStatusRoutes(app: ServiceApp, deps: ServiceDeps): void {
  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(whoami, (c) => {
    const scope = c.get('scope');
    if (scope === undefined) {
      // No bearer auth: every caller may do everything (startService allows it on loopback only).
      return c.json(
        { label: 'anonymous (auth is off)', scope: 'admin' as const, auth: false },
        200,
      );
    }
    return c.json({ label: c.get('caller') ?? '', scope, auth: true }, 200);
  });

  app.openapi(ready, async (c) => {
    // Either failing throws an unavailable error, which the error handler makes a 503.
    await Promise.all([deps.runs.listFlows({ limit: 1 }), deps.board.list({ limit: 1 })]);
    return c.json({ status: 'ok' as const, checks: { runs: 'ok', board: 'ok' } }, 200);
  });

  app.openapi(conductors, async (c) => {
    const [live, claimed] = await Promise.all([
      deps.board.listConductors(),
      deps.board.list({ states: ['CLAIMED'], limit: MAX_LISTED_CLAIMS }),
    ]);
    const items = live.map((conductor) => ({
      ...conductor,
      claims: claimed.items
        .filter((job) => job.owner === conductor.name)
        .map((job) => ({
          jobId: job.id,
          token: job.token,
          leaseExpiresAt: job.leaseExpiresAt ?? 0,
        })),
    }));
    return c.json(ConductorListSchema.parse({ items }), 200);
  });
}
