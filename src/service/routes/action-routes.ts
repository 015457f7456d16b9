import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requestRunAction } from '../../conductor/run-actions.ts';
import type { JsonValue } from '../../core/failure.ts';
import type { OperatorAction } from '../../core/operator-request.ts';
import { auditList } from '../../engine/durable-run.ts';
import { operatorRequest } from '../../engine/operator-actions.ts';
import type { FinishedRuns } from '../finished-runs.ts';
import { checkedJsonBody, checkedOptionalJsonBody } from '../json-body.ts';
import { jsonResponse, problemResponses } from '../openapi-responses.ts';
import { ProblemError } from '../problem.ts';
import { runLinks, runNotFound } from '../run-views.ts';
import {
  ActionAcceptedSchema,
  ActionBodySchema,
  ActionListSchema,
  AtomParamSchema,
  CancelQuerySchema,
  IdParamSchema,
  ResolveBodySchema,
} from '../schemas.ts';
import type { ServiceDeps } from '../service-deps.ts';
import type { ServiceApp, ServiceEnv } from '../service-env.ts';

const ACCEPTED = {
  202: jsonResponse(
    ActionAcceptedSchema,
    "the request is left on the run's job; the engine that runs it applies it",
  ),
  ...problemResponses(400, 401, 403, 404, 409, 413, 503),
};

const optionalBody = (schema: typeof ActionBodySchema) => ({
  required: false,
  content: { 'application/json': { schema } },
});

/** One route per run-wide action, so each is its own operation in the OpenAPI document. */
function runActionRoute(action: OperatorAction, summary: string) {
  return createRoute({
    method: 'post',
    path: `/v1/runs/{id}/${action}`,
    summary,
    middleware: [checkedOptionalJsonBody] as const,
    request: { params: IdParamSchema, body: optionalBody(ActionBodySchema) },
    responses: ACCEPTED,
  });
}

function atomActionRoute(action: OperatorAction, summary: string) {
  return createRoute({
    method: 'post',
    path: `/v1/runs/{id}/atoms/{atom}/${action}`,
    summary,
    middleware: [checkedOptionalJsonBody] as const,
    request: { params: AtomParamSchema, body: optionalBody(ActionBodySchema) },
    responses: ACCEPTED,
  });
}

const suspendRun = runActionRoute(
  'suspend',
  'Suspend a run: no atom starts any more; it stays SUSPENDED until resumed',
);
const resumeRun = runActionRoute('resume', 'Resume a SUSPENDED run');
const redriveRun = runActionRoute(
  'redrive',
  'Run a REVERTED or FAILURE run again from its failed atoms, keeping what succeeded',
);
const cancelRun = createRoute({
  method: 'post',
  path: '/v1/runs/{id}/cancel',
  summary: 'Cancel a run: revert what it did (default), or with ?revert=false stop where it stands',
  middleware: [checkedOptionalJsonBody] as const,
  request: {
    params: IdParamSchema,
    query: CancelQuerySchema,
    body: optionalBody(ActionBodySchema),
  },
  responses: ACCEPTED,
});
const retryRevert = atomActionRoute('retry-revert', 'Try the failed revert of an atom again');
const skipRevert = atomActionRoute(
  'skip-revert',
  'Count the failed revert of an atom as done (undone by hand), so the run finishes reverting',
);
const resolveRevert = createRoute({
  method: 'post',
  path: '/v1/runs/{id}/atoms/{atom}/resolve',
  summary: "Finish an atom's failed revert with a result given by hand",
  middleware: [checkedJsonBody] as const,
  request: {
    params: AtomParamSchema,
    body: { required: true, content: { 'application/json': { schema: ResolveBodySchema } } },
  },
  responses: ACCEPTED,
});
const listActions = createRoute({
  method: 'get',
  path: '/v1/runs/{id}/actions',
  summary: "A run's audit list: the operator requests it applied or refused, and the one pending",
  request: { params: IdParamSchema },
  responses: {
    200: jsonResponse(ActionListSchema, 'the audit list'),
    ...problemResponses(401, 404, 503),
  },
});

/** The reason of an action's body, when one was sent. */
function reasonOf(body: { readonly reason?: string | undefined } | undefined): {
  reason?: string;
} {
  return body?.reason === undefined ? {} : { reason: body.reason };
}

/**
 * The operator actions: `POST /v1/runs/:id/{suspend,resume,cancel,redrive}`,
 * `POST /v1/runs/:id/atoms/:atom/{retry-revert,skip-revert,resolve}`, and
 * `GET /v1/runs/:id/actions`. Each request is checked against the run's state (a `409` names
 * the states that would allow it), then left on the run's job for the engine that runs it,
 * wherever that is; the caller (its token's label) is recorded with it.
 */
export function registerActionRoutes(
  app: ServiceApp,
  deps: ServiceDeps & { readonly finished?: FinishedRuns },
): void {
  const ask = async (
    c: Context<ServiceEnv>,
    runId: string,
    action: OperatorAction,
    options: {
      readonly atom?: string;
      readonly revert?: boolean;
      readonly result?: JsonValue;
      readonly reason?: string;
    },
  ) => {
    const request = operatorRequest(action, {
      by: c.get('caller') ?? 'anonymous (auth is off)',
      ...options,
    });
    const job = await requestRunAction(deps, runId, request);
    deps.finished?.evict(runId);
    return ActionAcceptedSchema.parse({ action: request, job, links: runLinks(runId) });
  };
  app.openapi(suspendRun, async (c) =>
    c.json(await ask(c, c.req.valid('param').id, 'suspend', reasonOf(c.req.valid('json'))), 202),
  );
  app.openapi(resumeRun, async (c) =>
    c.json(await ask(c, c.req.valid('param').id, 'resume', reasonOf(c.req.valid('json'))), 202),
  );
  app.openapi(redriveRun, async (c) =>
    c.json(await ask(c, c.req.valid('param').id, 'redrive', reasonOf(c.req.valid('json'))), 202),
  );
  app.openapi(cancelRun, async (c) => {
    const revert = c.req.valid('query').revert !== 'false';
    const options = { revert, ...reasonOf(c.req.valid('json')) };
    return c.json(await ask(c, c.req.valid('param').id, 'cancel', options), 202);
  });
  app.openapi(retryRevert, async (c) => {
    const { id, atom } = c.req.valid('param');
    return c.json(
      await ask(c, id, 'retry-revert', { atom, ...reasonOf(c.req.valid('json')) }),
      202,
    );
  });
  app.openapi(skipRevert, async (c) => {
    const { id, atom } = c.req.valid('param');
    return c.json(await ask(c, id, 'skip-revert', { atom, ...reasonOf(c.req.valid('json')) }), 202);
  });

  app.openapi(resolveRevert, async (c) => {
    const { id, atom } = c.req.valid('param');
    const body = c.req.valid('json');
    if (!('result' in body)) {
      throw new ProblemError(
        400,
        'invalid-request',
        'Invalid request',
        'The request does not match the API: body.result: give the revert result (any JSON value, null included).',
      );
    }
    const result = body.result as JsonValue;
    return c.json(await ask(c, id, 'resolve', { atom, result, ...reasonOf(body) }), 202);
  });

  app.openapi(listActions, async (c) => {
    const { id } = c.req.valid('param');
    const [run, job] = await Promise.all([deps.runs.loadRun(id), deps.board.get(id)]);
    if (run === undefined && job === undefined) {
      throw runNotFound(id);
    }
    const items = run === undefined ? [] : [...auditList(run.flow)];
    return c.json(ActionListSchema.parse({ items, pending: job?.request ?? null }), 200);
  });
}
