import { createRoute, z } from '@hono/zod-openapi';
import type { RunChangeFeed } from '../../persistence/change-feed/change-feed.ts';
import type { EventStreams } from '../event-streams.ts';
import { problemResponses } from '../openapi-responses.ts';
import { runNotFound } from '../run-views.ts';
import { IdParamSchema } from '../schemas.ts';
import type { ServiceDeps } from '../service-deps.ts';
import type { ServiceApp } from '../service-env.ts';

const LastEventIdSchema = z.object({
  'last-event-id': z
    .string()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: 'the id of the last event received, to continue behind it' }),
});

const eventStream = {
  description:
    'Server-Sent Events: "run" events (the run\'s state) and "atom" events (an atom\'s state, intention and progress), each with its change id',
  content: { 'text/event-stream': { schema: z.string() } },
};

const runEvents = createRoute({
  method: 'get',
  path: '/v1/runs/{id}/events',
  summary: "A run's changes as Server-Sent Events, from its start or behind Last-Event-ID",
  request: { params: IdParamSchema, headers: LastEventIdSchema },
  responses: { 200: eventStream, ...problemResponses(400, 401, 404, 503) },
});

const allEvents = createRoute({
  method: 'get',
  path: '/v1/events',
  summary: "Every run's changes as Server-Sent Events, from now or behind Last-Event-ID",
  request: { headers: LastEventIdSchema },
  responses: { 200: eventStream, ...problemResponses(400, 401, 503) },
});

/** `GET /v1/runs/:id/events`, `GET /v1/events`. */
export function registerEventRoutes(
  app: ServiceApp,
  deps: ServiceDeps & { readonly feed: RunChangeFeed; readonly streams: EventStreams },
): void {
  app.openapi(runEvents, async (c) => {
    const { id } = c.req.valid('param');
    const after = c.req.valid('header')['last-event-id'];
    const [run, job] = await Promise.all([deps.runs.loadRun(id), deps.board.get(id)]);
    if (run === undefined && job === undefined) {
      throw runNotFound(id);
    }
    const first = await deps.feed.read({ runId: id, ...(after === undefined ? {} : { after }) });
    return deps.streams.stream(c, deps.feed, { runId: id, after }, first);
  });

  app.openapi(allEvents, async (c) => {
    const after = c.req.valid('header')['last-event-id'] ?? (await deps.feed.head());
    const first = after === undefined ? await deps.feed.read() : await deps.feed.read({ after });
    return deps.streams.stream(c, deps.feed, { after }, first);
  });
}
