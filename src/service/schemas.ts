import { z } from '@hono/zod-openapi';
import { OPERATOR_ACTIONS } from '../core/operator-request.ts';
import { FLOW_STATES } from '../core/states.ts';
import { JOB_STATES } from '../jobs/model.ts';

// The shapes of the /v1 API: the same schemas validate requests and make /v1/openapi.json.

/** Any JSON value (inputs, results); checked by the service, not by the schema. */
const JsonValueSchema = z.unknown().openapi({ description: 'any JSON value' });

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:taskflow-ts:problem:missing-input' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem', { description: 'An error, as RFC 9457 problem details' });

const FlowRefSchema = z.object({ name: z.string(), version: z.string() }).openapi('FlowRef');

const GraphSchema = z
  .object({
    nodes: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        kind: z.enum(['task', 'retry', 'linear', 'unordered', 'graph']),
        parent: z.string().nullable(),
      }),
    ),
    edges: z.array(
      z.object({
        from: z.string(),
        to: z.string(),
        label: z.string().nullable(),
        decider: z.boolean(),
      }),
    ),
  })
  .openapi('FlowGraph');

export const FlowSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    resumes: z.array(z.string()).openapi({ description: 'older versions it can continue' }),
    requires: z.array(z.string()).openapi({ description: 'inputs a run must be given' }),
    provides: z.array(z.string()),
    inputSchema: z
      .record(z.string(), JsonValueSchema)
      .nullable()
      .openapi({ description: "the JSON Schema of the flow's inputs, when the flow declares one" }),
    graph: GraphSchema,
  })
  .openapi('Flow');

export const FlowListSchema = z.object({ items: z.array(FlowSchema) }).openapi('FlowList');

export const CreateRunSchema = z
  .strictObject({
    flow: z.string().min(1).max(200).openapi({ example: 'provision' }),
    version: z.string().min(1).max(200).optional().openapi({
      description: 'the version the caller expects; refused when the service runs another',
    }),
    inputs: z
      .record(z.string(), JsonValueSchema)
      .default({})
      .openapi({ example: { size: 10 }, description: "the flow's inputs (its store)" }),
    runId: z.string().min(1).max(200).optional().openapi({
      description:
        "the run's id, chosen by the caller (a random UUID otherwise); posting again with the same runId returns the same run, as Idempotency-Key does",
    }),
  })
  .openapi('CreateRun');

const LinksSchema = z
  .object({ self: z.string(), events: z.string(), job: z.string() })
  .openapi('RunLinks');

export const OperatorRequestSchema = z
  .object({
    id: z.string(),
    action: z.enum(OPERATOR_ACTIONS),
    by: z.string().openapi({ description: "the label of the caller's token" }),
    at: z.number(),
    atom: z.string().optional(),
    revert: z.boolean().optional(),
    result: JsonValueSchema.optional(),
    reason: z.string().optional(),
  })
  .openapi('OperatorRequest');

const AppliedRequestSchema = OperatorRequestSchema.extend({
  appliedAt: z.number(),
  refused: z.string().optional().openapi({ description: 'why it did not apply, if it did not' }),
}).openapi('AppliedRequest');

export const JobSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    flow: FlowRefSchema,
    store: z.record(z.string(), JsonValueSchema),
    priority: z.number().int(),
    idempotencyKey: z.string().nullable(),
    createdAt: z.number(),
    updatedAt: z.number(),
    state: z.enum(JOB_STATES),
    owner: z.string().nullable(),
    leaseExpiresAt: z.number().nullable(),
    token: z.number().int(),
    attempts: z.number().int(),
    outcome: z.record(z.string(), JsonValueSchema).nullable(),
    deadLetterReason: z.string().nullable(),
    request: OperatorRequestSchema.nullable().openapi({
      description: "an operator's request waiting for the engine that runs the job",
    }),
  })
  .openapi('Job');

export const RunCreatedSchema = z
  .object({
    id: z.string(),
    flow: FlowRefSchema,
    job: JobSchema,
    links: LinksSchema,
  })
  .openapi('RunCreated');

const FailureSchema = z
  .object({
    type: z.string(),
    message: z.string(),
    retryable: z.boolean(),
    details: JsonValueSchema.optional(),
    cause: JsonValueSchema.optional().openapi({ description: 'the Failure that caused this one' }),
  })
  .openapi('Failure');

export const AtomSchema = z
  .object({
    name: z.string(),
    kind: z.enum(['task', 'retry']),
    version: z.string(),
    state: z.string(),
    intention: z.string(),
    attempts: z.number().int(),
    progress: z.number(),
    result: JsonValueSchema.optional(),
    failure: FailureSchema.optional(),
    revertResult: JsonValueSchema.optional(),
    revertFailure: FailureSchema.optional(),
    history: z
      .array(z.object({ result: JsonValueSchema, failures: z.record(z.string(), FailureSchema) }))
      .optional(),
    completion: z.number().int().optional(),
    updatedAt: z.number(),
    meta: z.record(z.string(), JsonValueSchema),
    allowedActions: z.array(z.enum(OPERATOR_ACTIONS)).openapi({
      description: 'the operator actions on this atom that its state allows now',
    }),
  })
  .openapi('Atom');

export const RunSummarySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    state: z.enum(FLOW_STATES),
    flow: FlowRefSchema.nullable(),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .openapi('RunSummary');

export const RunSchema = RunSummarySchema.extend({
  inputs: z.record(z.string(), JsonValueSchema),
  meta: z.record(z.string(), JsonValueSchema),
  atoms: z.array(AtomSchema),
  job: JobSchema.nullable(),
  allowedActions: z.array(z.enum(OPERATOR_ACTIONS)).openapi({
    description: "the operator actions on the whole run that its state and its job's allow now",
  }),
  actions: z.array(AppliedRequestSchema).openapi({
    description: 'the audit list: every operator request the run applied or refused, oldest first',
  }),
}).openapi('Run');

export const ActionBodySchema = z
  .strictObject({
    reason: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .openapi({ description: 'why, for the audit list' }),
  })
  .openapi('ActionBody');

export const ResolveBodySchema = ActionBodySchema.extend({
  result: JsonValueSchema.openapi({ description: "the atom's revert result, given by hand" }),
}).openapi('ResolveBody');

export const CancelQuerySchema = z.strictObject({
  revert: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: 'revert what the run did (default true), or stop where it stands' }),
});

export const AtomParamSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'id', in: 'path' } }),
  atom: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'atom', in: 'path' } }),
});

export const ActionAcceptedSchema = z
  .object({
    action: OperatorRequestSchema,
    job: JobSchema,
    links: LinksSchema,
  })
  .openapi('ActionAccepted', {
    description:
      "the request is left on the run's job; the engine applies it and records it in the run's actions",
  });

export const ActionListSchema = z
  .object({
    items: z.array(AppliedRequestSchema),
    pending: OperatorRequestSchema.nullable(),
  })
  .openapi('ActionList');

const PageFields = { next: z.string().nullable() };
export const RunListSchema = z
  .object({ items: z.array(RunSummarySchema), ...PageFields })
  .openapi('RunList');
export const JobListSchema = z
  .object({ items: z.array(JobSchema), ...PageFields })
  .openapi('JobList');

const limitQuery = z.coerce.number().int().min(1).max(1000).optional();

export const RunQuerySchema = z.strictObject({
  state: z
    .string()
    .optional()
    .openapi({ description: `comma-separated flow states: ${FLOW_STATES.join(', ')}` }),
  flow: z.string().min(1).optional().openapi({ description: 'only runs of this flow' }),
  createdAfter: z.iso.datetime().optional().openapi({ example: '2026-01-01T00:00:00Z' }),
  createdBefore: z.iso.datetime().optional(),
  limit: limitQuery,
  after: z.string().min(1).optional().openapi({ description: 'the "next" of the previous page' }),
});

export const JobQuerySchema = z.strictObject({
  state: z
    .string()
    .optional()
    .openapi({ description: `comma-separated job states: ${JOB_STATES.join(', ')}` }),
  name: z.string().min(1).optional(),
  owner: z.string().min(1).optional(),
  limit: limitQuery,
  after: z.string().min(1).optional(),
});

export const IdParamSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export const ConductorListSchema = z
  .object({
    items: z.array(
      z.object({
        name: z.string(),
        lastSeenAt: z.number(),
        expiresAt: z.number(),
        meta: z.record(z.string(), JsonValueSchema),
        claims: z.array(
          z.object({ jobId: z.string(), token: z.number().int(), leaseExpiresAt: z.number() }),
        ),
      }),
    ),
  })
  .openapi('ConductorList');

export const HealthSchema = z
  .object({ status: z.enum(['ok']), checks: z.record(z.string(), z.string()).optional() })
  .openapi('Health');
