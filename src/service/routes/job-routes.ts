import { createRoute } from '@hono/zod-openapi';
import { JOB_STATES, type JobState } from '../../jobs/model.ts';
import type { FinishedRuns } from '../finished-runs.ts';
import { jsonResponse, problemResponses } from '../openapi-responses.ts';
import { ProblemError } from '../problem.ts';
import { IdParamSchema, JobListSchema, JobQuerySchema, JobSchema } from '../schemas.ts';
import type { ServiceDeps } from '../service-deps.ts';
import type { ServiceApp } from '../service-env.ts';
import { parseStates } from './state-filter.ts';

const listJobs = createRoute({
  method: 'get',
  path: '/v1/jobs',
  summary: 'Jobs on the board, oldest first, dead-lettered ones included',
  request: { query: JobQuerySchema },
  responses: {
    200: jsonResponse(JobListSchema, 'a page of jobs'),
    ...problemResponses(400, 401, 503),
  },
});

const getJob = createRoute({
  method: 'get',
  path: '/v1/jobs/{id}',
  summary: 'One job',
  request: { params: IdParamSchema },
  responses: { 200: jsonResponse(JobSchema, 'the job'), ...problemResponses(401, 404, 503) },
});

const trashJob = createRoute({
  method: 'post',
  path: '/v1/jobs/{id}/trash',
  summary: 'Delete a job that no live claim holds (its idempotency key becomes free)',
  request: { params: IdParamSchema },
  responses: {
    204: { description: 'the job is deleted' },
    ...problemResponses(401, 403, 404, 409, 503),
  },
});

const redriveJob = createRoute({
  method: 'post',
  path: '/v1/jobs/{id}/redrive',
  summary: 'Put a dead-lettered job back on the board with its attempts reset',
  request: { params: IdParamSchema },
  responses: {
    200: jsonResponse(JobSchema, 'the job, UNCLAIMED again'),
    ...problemResponses(401, 403, 404, 409, 503),
  },
});

/** `GET /v1/jobs`, `GET /v1/jobs/:id`, `POST /v1/jobs/:id/trash`, `POST /v1/jobs/:id/redrive`. */
export function registerJobRoutes(
  app: ServiceApp,
  deps: ServiceDeps & { readonly finished?: FinishedRuns },
): void {
  app.openapi(listJobs, async (c) => {
    const query = c.req.valid('query');
    const states = parseStates(query.state, JOB_STATES, 'state') as JobState[];
    const page = await deps.board.list({
      ...(states.length > 0 ? { states } : {}),
      ...(query.name === undefined ? {} : { name: query.name }),
      ...(query.owner === undefined ? {} : { owner: query.owner }),
      ...(query.limit === undefined ? {} : { limit: query.limit }),
      ...(query.after === undefined ? {} : { after: query.after }),
    });
    return c.json(JobListSchema.parse({ items: page.items, next: page.next ?? null }), 200);
  });

  app.openapi(getJob, async (c) => {
    const { id } = c.req.valid('param');
    const job = await deps.board.get(id);
    if (job === undefined) throw jobNotFound(id);
    return c.json(JobSchema.parse(job), 200);
  });

  app.openapi(trashJob, async (c) => {
    const { id } = c.req.valid('param');
    await deps.board.trash(id);
    deps.finished?.evict(id);
    return c.body(null, 204);
  });

  app.openapi(redriveJob, async (c) => {
    const { id } = c.req.valid('param');
    const job = await deps.board.get(id);
    if (job === undefined) throw jobNotFound(id);
    if (job.state !== 'DEAD_LETTER') {
      throw new ProblemError(
        409,
        'job-not-dead-lettered',
        'Job is not dead-lettered',
        `Job ${JSON.stringify(id)} is ${job.state}; only a DEAD_LETTER job can be redriven.`,
      );
    }
    const redriven = await deps.board.redrive(id);
    deps.finished?.evict(id);
    return c.json(JobSchema.parse(redriven), 200);
  });
}

function jobNotFound(id: string): ProblemError {
  return new ProblemError(
    404,
    'job-not-found',
    'Job not found',
    `No job has id ${JSON.stringify(id)}; GET /v1/jobs lists the jobs.`,
  );
}
