import { createRoute } from '@hono/zod-openapi';
import type { FlowState } from '../../core/states.ts';
import { FLOW_STATES } from '../../core/states.ts';
import { encodeCursor } from '../../drivers/cursor-paging.ts';
import type { FlowDetail } from '../../persistence/model.ts';
import type { FinishedRuns } from '../finished-runs.ts';
import type { FlowCatalog } from '../flow-catalog.ts';
import { checkedJsonBody } from '../json-body.ts';
import { jsonResponse, problemResponses } from '../openapi-responses.ts';
import { postRun } from '../run-creation.ts';
import { runLinks, runNotFound, runSummaryView, runView } from '../run-views.ts';
import {
  CreateRunSchema,
  IdParamSchema,
  RunCreatedSchema,
  RunListSchema,
  RunQuerySchema,
  RunSchema,
} from '../schemas.ts';
import type { ServiceDeps } from '../service-deps.ts';
import type { ServiceApp } from '../service-env.ts';
import { parseStates } from './state-filter.ts';

const createRun = createRoute({
  method: 'post',
  path: '/v1/runs',
  summary: 'Start a run of a served flow (posted as a job for the conductors)',
  middleware: [checkedJsonBody] as const,
  request: {
    body: { required: true, content: { 'application/json': { schema: CreateRunSchema } } },
  },
  responses: {
    202: jsonResponse(RunCreatedSchema, 'the run is accepted; a conductor will run it'),
    ...problemResponses(400, 401, 403, 404, 409, 413, 503),
  },
});

const listRuns = createRoute({
  method: 'get',
  path: '/v1/runs',
  summary: 'Runs in the run store, oldest first, with filters and cursor paging',
  request: { query: RunQuerySchema },
  responses: {
    200: jsonResponse(RunListSchema, 'a page of runs'),
    ...problemResponses(400, 401, 503),
  },
});

const getRun = createRoute({
  method: 'get',
  path: '/v1/runs/{id}',
  summary: 'A run: its flow detail, every atom, and the job that carries it',
  request: { params: IdParamSchema },
  responses: {
    200: jsonResponse(RunSchema, 'the run'),
    ...problemResponses(401, 404, 503),
  },
});

/** Pages the store reads at most to fill one filtered page, so one request stays bounded. */
const MAX_SCANNED_PAGES = 10;

/** `POST /v1/runs`, `GET /v1/runs`, `GET /v1/runs/:id`. */
export function registerRunRoutes(
  app: ServiceApp,
  deps: ServiceDeps & { readonly catalog: FlowCatalog; readonly finished?: FinishedRuns },
): void {
  app.openapi(createRun, async (c) => {
    const body = c.req.valid('json');
    const job = await postRun(deps, body, c.req.header('Idempotency-Key'));
    const links = runLinks(job.id);
    c.header('Location', links.self);
    return c.json(RunCreatedSchema.parse({ id: job.id, flow: job.flow, job, links }), 202);
  });

  app.openapi(listRuns, async (c) => {
    const query = c.req.valid('query');
    const states = parseStates(query.state, FLOW_STATES, 'state') as FlowState[];
    const limit = query.limit ?? 100;
    const before = query.createdBefore === undefined ? undefined : Date.parse(query.createdBefore);
    // Listing is oldest first: "created after" is where to start, "before" where to stop.
    let after =
      query.after ??
      (query.createdAfter === undefined
        ? undefined
        : encodeCursor({ createdAt: Date.parse(query.createdAfter), id: '' }));
    const items: FlowDetail[] = [];
    let next: string | undefined;
    for (let scanned = 0; scanned < MAX_SCANNED_PAGES; scanned++) {
      const page = await deps.runs.listFlows({
        ...(states.length > 0 ? { states } : {}),
        limit,
        ...(after === undefined ? {} : { after }),
      });
      let stopped = false;
      for (const flow of page.items) {
        if (before !== undefined && flow.createdAt >= before) {
          stopped = true;
          break;
        }
        if (query.flow !== undefined && flow.factory?.name !== query.flow) continue;
        items.push(flow);
        if (items.length === limit) break;
      }
      const last = items.at(-1);
      if (stopped || page.next === undefined) {
        next = undefined;
        break;
      }
      if (items.length === limit && last !== undefined) {
        next = encodeCursor({ createdAt: last.createdAt, id: last.id });
        break;
      }
      after = page.next;
      next = page.next;
    }
    return c.json(
      RunListSchema.parse({ items: items.map(runSummaryView), next: next ?? null }),
      200,
    );
  });

  app.openapi(getRun, async (c) => {
    const { id } = c.req.valid('param');
    const kept = deps.finished?.get(id);
    if (kept !== undefined)
      return c.body(kept, 200, { 'Content-Type': 'application/json' }) as never;
    const [run, job] = await Promise.all([deps.runs.loadRun(id), deps.board.get(id)]);
    if (run === undefined && job === undefined) {
      throw runNotFound(id);
    }
    const view = RunSchema.parse(runView(run, job));
    if (run === undefined || deps.finished === undefined) return c.json(view, 200);
    const body = deps.finished.keep(id, run.flow.state, job, JSON.stringify(view));
    return c.body(body, 200, { 'Content-Type': 'application/json' }) as never;
  });
}
