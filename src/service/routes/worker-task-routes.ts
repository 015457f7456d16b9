import { createRoute, z } from '@hono/zod-openapi';
import type { FailureJson, JsonValue } from '../../core/failure.ts';
import type {
  QueuedWorkerTask,
  SettleResult,
  WorkerOutcome,
  WorkerTaskQueue,
  WorkerTaskWakeUps,
} from '../../documents/index.ts';
import { checkedJsonBody } from '../json-body.ts';
import { jsonResponse, problemResponses } from '../openapi-responses.ts';
import { ProblemError } from '../problem.ts';
import type { ServiceApp } from '../service-env.ts';

/** The longest a claim waits for a task. */
const MAX_WAIT_MS = 30_000;
/** How often a waiting claim looks again. */
const CLAIM_POLL_MS = 50;

const Name = z.string().min(1).max(200);
const TaskIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

const ClaimSchema = z
  .strictObject({
    types: z
      .array(Name)
      .min(1)
      .max(50)
      .openapi({ example: ['images.resize'] }),
    worker: Name.openapi({ description: 'who claims, shown on the task' }),
    waitMs: z
      .number()
      .int()
      .min(0)
      .max(MAX_WAIT_MS)
      .default(0)
      .openapi({ description: 'how long to wait for a task before answering 204' }),
    leaseMs: z.number().int().min(1000).max(600_000).default(30_000),
  })
  .openapi('WorkerClaim');

const WorkerTaskSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    kind: z.enum(['execute', 'revert']),
    runId: z.string(),
    atom: z.string(),
    inputs: z.record(z.string(), z.unknown()),
    executeResult: z.unknown().optional().openapi({ description: 'for a revert: the result' }),
    attempt: z.number().int().openapi({ description: 'deliveries of this task so far' }),
    idempotencyKey: z.string(),
    token: z.number().int().openapi({ description: 'send it back with heartbeat/complete/fail' }),
    leaseExpiresAt: z.string(),
  })
  .openapi('WorkerTask');

const TokenBody = { token: z.number().int().min(1) };
const HeartbeatSchema = z.strictObject({
  ...TokenBody,
  leaseMs: z.number().int().min(1000).max(600_000).default(30_000),
});
const CompleteSchema = z.strictObject({ ...TokenBody, result: z.unknown().default(null) });
const FailSchema = z.strictObject({
  ...TokenBody,
  error: z.strictObject({
    type: z.string().min(1).max(200).default('WorkerError'),
    message: z.string().min(1).max(10_000),
    details: z.unknown().optional(),
    retryable: z.boolean().default(false),
  }),
});

const jsonBody = <T>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

const claimTask = createRoute({
  method: 'post',
  path: '/v1/tasks/claim',
  summary: 'Claim a worker task of the given types under a lease, waiting up to waitMs for one',
  middleware: [checkedJsonBody] as const,
  request: { body: jsonBody(ClaimSchema) },
  responses: {
    200: jsonResponse(WorkerTaskSchema, 'a task, leased to the caller'),
    204: { description: 'no task of those types came within waitMs' },
    ...problemResponses(400, 401, 403, 503),
  },
});

const heartbeat = createRoute({
  method: 'post',
  path: '/v1/tasks/{id}/heartbeat',
  summary: 'Extend the lease of a task the caller holds',
  middleware: [checkedJsonBody] as const,
  request: { params: TaskIdParam, body: jsonBody(HeartbeatSchema) },
  responses: {
    200: jsonResponse(WorkerTaskSchema, 'the task with its new lease'),
    ...problemResponses(400, 401, 403, 404, 409, 503),
  },
});

const complete = createRoute({
  method: 'post',
  path: '/v1/tasks/{id}/complete',
  summary: 'Complete a task with its result',
  middleware: [checkedJsonBody] as const,
  request: { params: TaskIdParam, body: jsonBody(CompleteSchema) },
  responses: {
    204: { description: 'the task is complete; its run goes on' },
    ...problemResponses(400, 401, 403, 404, 409, 503),
  },
});

const fail = createRoute({
  method: 'post',
  path: '/v1/tasks/{id}/fail',
  summary: "Fail a task: the error becomes its atom's failure",
  middleware: [checkedJsonBody] as const,
  request: { params: TaskIdParam, body: jsonBody(FailSchema) },
  responses: {
    204: { description: 'the task failed; its run resolves the failure' },
    ...problemResponses(400, 401, 403, 404, 409, 503),
  },
});

/**
 * `POST /v1/tasks/claim`, `/v1/tasks/:id/heartbeat`, `/complete` and `/fail`: external workers,
 * in any language, doing the `worker` tasks of flow documents.
 */
export function registerWorkerTaskRoutes(app: ServiceApp, queue: WorkerTaskQueue): void {
  app.openapi(claimTask, async (c) => {
    const request = c.req.valid('json');
    const deadline = Date.now() + request.waitMs;
    const signal = c.req.raw.signal;
    for (;;) {
      const task = await queue.claim(request);
      if (task !== undefined) return c.json(WorkerTaskSchema.parse(taskView(task)), 200);
      const left = deadline - Date.now();
      if (left <= 0 || signal.aborted) return c.body(null, 204);
      // Woken at once by an offer in this process; tasks offered elsewhere are seen at the poll.
      if ('untilOffered' in queue) {
        await (queue as WorkerTaskQueue & WorkerTaskWakeUps).untilOffered(
          request.types,
          Math.min(CLAIM_POLL_MS, left),
          signal,
        );
      } else {
        await new Promise((resolve) => setTimeout(resolve, Math.min(CLAIM_POLL_MS, left)));
      }
    }
  });

  app.openapi(heartbeat, async (c) => {
    const { id } = c.req.valid('param');
    const { token, leaseMs } = c.req.valid('json');
    const task = await queue.heartbeat(id, token, leaseMs);
    if (task === undefined) refuse(id, (await queue.get(id)) === undefined ? 'missing' : 'stale');
    return c.json(WorkerTaskSchema.parse(taskView(task as QueuedWorkerTask)), 200);
  });

  app.openapi(complete, async (c) => {
    const { id } = c.req.valid('param');
    const { token, result } = c.req.valid('json');
    await settle(queue, id, token, { result: result as JsonValue });
    return c.body(null, 204);
  });

  app.openapi(fail, async (c) => {
    const { id } = c.req.valid('param');
    const { token, error } = c.req.valid('json');
    const failure: FailureJson = {
      type: error.type,
      message: error.message,
      retryable: error.retryable,
      ...(error.details === undefined ? {} : { details: error.details as JsonValue }),
    };
    await settle(queue, id, token, { failure });
    return c.body(null, 204);
  });
}

async function settle(
  queue: WorkerTaskQueue,
  id: string,
  token: number,
  outcome: WorkerOutcome,
): Promise<void> {
  const settled = await queue.settle(id, token, outcome);
  if (settled !== 'settled') refuse(id, settled);
}

function refuse(id: string, why: Exclude<SettleResult, 'settled'>): never {
  if (why === 'missing') {
    throw new ProblemError(
      404,
      'task-not-found',
      'Task not found',
      `No worker task has id ${JSON.stringify(id)}; claim one with POST /v1/tasks/claim.`,
    );
  }
  throw new ProblemError(
    409,
    'lease-lost',
    'Lease lost',
    `Task ${id} is not held with this token: its lease ran out and another worker claimed it, or it is settled already. Drop the task; its new holder reports it.`,
  );
}

function taskView(task: QueuedWorkerTask) {
  return {
    id: task.id,
    type: task.type,
    kind: task.kind,
    runId: task.runId,
    atom: task.atom,
    inputs: task.inputs,
    ...(task.executeResult === undefined ? {} : { executeResult: task.executeResult }),
    attempt: task.attempt,
    idempotencyKey: task.idempotencyKey,
    token: task.token,
    leaseExpiresAt: new Date(task.leaseExpiresAt ?? 0).toISOString(),
  };
}
