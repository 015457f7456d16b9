import { createRoute } from '@hono/zod-openapi';
import type { FlowCatalog } from '../flow-catalog.ts';
import { jsonResponse, problemResponses } from '../openapi-responses.ts';
import { FlowListSchema } from '../schemas.ts';
import type { ServiceApp } from '../service-env.ts';

const listFlows = createRoute({
  method: 'get',
  path: '/v1/flows',
  summary: 'The flows this service runs: versions, inputs, outputs and graph',
  responses: { 200: jsonResponse(FlowListSchema, 'the served flows'), ...problemResponses(401) },
});

/** `GET /v1/flows`. */
export function registerFlowRoutes(app: ServiceApp, catalog: FlowCatalog): void {
  app.openapi(listFlows, (c) => c.json(FlowListSchema.parse({ items: catalog.list() }), 200));
}
