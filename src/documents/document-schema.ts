import { z } from 'zod';
import { MAX_ATOM_NAME_LENGTH } from '../core/names.ts';

// The flow document: a flow described as JSON data with the library's own concepts (patterns,
// retries, tasks with requires/provides/rebind/inject/optional), so a service can run flows it
// was sent instead of flows compiled into it. This schema checks the shape; compileDocument
// checks the rest (names, data flow, cycles, expressions, allowed hosts).

/** The `format` every flow document carries; a new incompatible format gets a new value. */
export const FLOW_DOCUMENT_FORMAT = 'taskflow.flow/v1';

/** The task types a document can use, by `type`. */
export const TASK_TYPES = ['http', 'noop', 'sleep', 'worker'] as const;
/** The patterns a document's flows follow, by `type`. */
export const FLOW_TYPES = ['linear', 'unordered', 'graph'] as const;
/** The retries a flow may have, by `type`. */
export const RETRY_TYPES = [
  'times',
  'forEach',
  'parameterizedForEach',
  'alwaysRevert',
  'alwaysRevertAll',
] as const;
/** The HTTP methods an `http` task may use. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;

const Name = z.string().min(1).max(MAX_ATOM_NAME_LENGTH);
const JsonObject = z.record(z.string(), z.json());

const Provides = z
  .union([Name, z.array(Name), z.record(z.string(), Name)])
  .describe('a name for the whole result, names for positions, or result key → name');

/** What tasks and retries share: their name and where their arguments come from. */
const atomFields = {
  name: Name.describe('unique across the whole document, nesting included'),
  description: z.string().max(2000).optional(),
  requires: z.array(Name).optional().describe('arguments that must be supplied'),
  optional: JsonObject.optional().describe('arguments that may be absent → their default'),
  rebind: z.record(z.string(), Name).optional().describe('argument → the symbol to read it from'),
  inject: JsonObject.optional().describe('constant arguments of this atom only'),
  version: z.string().min(1).max(200).optional(),
};

const taskFields = {
  ...atomFields,
  provides: Provides.optional(),
  priority: z.number().int().optional().describe('among atoms ready together, higher runs first'),
  timeoutMs: z.number().int().positive().optional(),
};

const Status = z.number().int().min(100).max(599);

/** One HTTP request of an `http` task; strings may hold `{{ expression }}` templates. */
const HttpRequest = {
  method: z.enum(HTTP_METHODS),
  url: z
    .string()
    .min(1)
    .max(8000)
    .describe('scheme and host literal; templates only in the path and query, each value encoded'),
  headers: z.record(z.string(), z.string()).optional().describe('may use {{ $secrets.NAME }}'),
  body: z.json().optional().describe('JSON sent as the body; strings may be templates'),
  expect: z.array(Status).min(1).optional().describe('statuses that count as success'),
};

const HttpTask = z
  .strictObject({
    type: z.literal('http'),
    ...taskFields,
    ...HttpRequest,
    result: z
      .string()
      .optional()
      .describe('JSONata over { status, headers, body } selecting the result; default: body'),
    revert: z
      .strictObject(HttpRequest)
      .optional()
      .describe('the request that undoes a successful execute; $result is its result'),
  })
  .describe('a task whose execute (and revert) is an HTTP request');

const NoopTask = z
  .strictObject({
    type: z.literal('noop'),
    ...taskFields,
    result: z.json().optional().describe('the value it returns (default null)'),
  })
  .describe('a task that does nothing and returns "result"');

const SleepTask = z
  .strictObject({
    type: z.literal('sleep'),
    ...taskFields,
    durationMs: z.number().int().min(0).max(86_400_000),
  })
  .describe('a task that waits durationMs, then returns null');

const WorkerTask = z
  .strictObject({
    type: z.literal('worker'),
    ...taskFields,
    taskType: Name.describe('the type workers claim it by (POST /v1/tasks/claim)'),
    revert: z
      .boolean()
      .optional()
      .describe('deliver the revert of a successful execute to a worker too (default false)'),
  })
  .describe('a task done by an external worker that claims it over the HTTP API');

const Backoff = z.strictObject({
  initialMs: z.number().min(0),
  factor: z.number().min(1).optional(),
  maxMs: z.number().min(0).optional(),
  jitter: z.boolean().optional(),
});

const retryFields = { ...atomFields, provides: Provides.optional() };

const Retry = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('times'),
      ...retryFields,
      attempts: z.number().int().min(1).max(1000),
      revertAll: z.boolean().optional(),
      backoff: Backoff.optional(),
    }),
    z.strictObject({
      type: z.literal('forEach'),
      ...retryFields,
      values: z.array(z.json()).min(1),
      revertAll: z.boolean().optional(),
      backoff: Backoff.optional(),
    }),
    z.strictObject({
      type: z.literal('parameterizedForEach'),
      ...retryFields,
      revertAll: z.boolean().optional(),
      backoff: Backoff.optional(),
    }),
    z.strictObject({ type: z.literal('alwaysRevert'), ...retryFields }),
    z.strictObject({ type: z.literal('alwaysRevertAll'), ...retryFields }),
  ],
  { error: unknownType('retry', RETRY_TYPES) },
);

const Link = z.strictObject({
  from: Name.describe('a child of this graph flow (task or flow name)'),
  to: Name,
  when: z
    .string()
    .min(1)
    .max(4000)
    .optional()
    .describe('JSONata over the source results (atom name → result; $result: the "from" task)'),
  depth: z.enum(['ALL', 'FLOW', 'NEIGHBORS', 'ATOM']).optional(),
});

const flowFields = {
  name: Name.optional().describe('default: the document name at the root, parent.N below'),
  description: z.string().max(2000).optional(),
  retry: Retry.optional(),
};

const LinearHead = z.strictObject({ type: z.literal('linear'), ...flowFields });
const UnorderedHead = z.strictObject({ type: z.literal('unordered'), ...flowFields });
const GraphHead = z.strictObject({
  type: z.literal('graph'),
  ...flowFields,
  links: z.array(Link).optional(),
});

/** A linear flow in a document. */
export interface LinearFlowNode extends z.infer<typeof LinearHead> {
  readonly children: readonly DocumentNode[];
}
/** An unordered flow in a document. */
export interface UnorderedFlowNode extends z.infer<typeof UnorderedHead> {
  readonly children: readonly DocumentNode[];
}
/** A graph flow in a document. */
export interface GraphFlowNode extends z.infer<typeof GraphHead> {
  readonly children: readonly DocumentNode[];
}
/** A flow in a document. */
export type FlowNode = LinearFlowNode | UnorderedFlowNode | GraphFlowNode;
/** A task in a document. */
export type TaskNode =
  | z.infer<typeof HttpTask>
  | z.infer<typeof NoopTask>
  | z.infer<typeof SleepTask>
  | z.infer<typeof WorkerTask>;
/** One child of a flow in a document: a flow or a task. */
export type DocumentNode = FlowNode | TaskNode;

// Each flow declares its children with its own getter (read only when the schema is used, so
// the union of children can be defined after the flows that hold it).
const children = {
  get children(): z.ZodArray<z.ZodType<DocumentNode>> {
    return z.array(DocumentNodeSchema);
  },
};
const LinearFlow = LinearHead.extend(children);
const UnorderedFlow = UnorderedHead.extend(children);
const GraphFlow = GraphHead.extend(children);

const NODE_TYPES = [...FLOW_TYPES, ...TASK_TYPES] as const;

const DocumentNodeSchema: z.ZodType<DocumentNode> = z.discriminatedUnion(
  'type',
  [LinearFlow, UnorderedFlow, GraphFlow, HttpTask, NoopTask, SleepTask, WorkerTask],
  { error: unknownType('child', NODE_TYPES) },
);

const FlowNodeSchema: z.ZodType<FlowNode> = z.discriminatedUnion(
  'type',
  [LinearFlow, UnorderedFlow, GraphFlow],
  { error: unknownType('flow', FLOW_TYPES) },
);

/** The schema of a whole flow document. */
export const FlowDocumentSchema = z
  .strictObject({
    format: z.literal(FLOW_DOCUMENT_FORMAT, {
      error: `must be "${FLOW_DOCUMENT_FORMAT}", the format this service reads`,
    }),
    name: Name.describe('the definition name runs name, like a registered flow'),
    version: z
      .string()
      .min(1)
      .max(200)
      .describe('immutable once stored; change the document, change the version'),
    description: z.string().max(2000).optional(),
    inputs: z
      .array(Name)
      .optional()
      .describe('symbols a run must be given; everything else must be provided inside'),
    flow: FlowNodeSchema,
  })
  .describe('A flow of the taskflow-ts workflow service, as data.');

/** A flow document once its schema has been checked. */
export type FlowDocument = z.infer<typeof FlowDocumentSchema>;
/** An `http` task in a document. */
export type HttpTaskNode = z.infer<typeof HttpTask>;
/** The request fields of an `http` task (execute or revert). */
export type HttpRequestNode = Pick<HttpTaskNode, keyof typeof HttpRequest>;
/** A retry in a document. */
export type RetryNode = z.infer<typeof Retry>;
/** A link of a graph flow in a document. */
export type LinkNode = z.infer<typeof Link>;

/**
 * The JSON Schema (draft 2020-12) of a flow document, as the service publishes it.
 *
 * @example
 * const schema = flowDocumentJsonSchema();
 * schema.$schema; // 'https://json-schema.org/draft/2020-12/schema'
 */
export function flowDocumentJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(FlowDocumentSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}

function unknownType(what: string, types: readonly string[]) {
  return (issue: { readonly code?: string; readonly input?: unknown }): string | undefined => {
    if (issue.code !== 'invalid_union') return undefined;
    const type = (issue.input as { type?: unknown } | undefined)?.type;
    const got = type === undefined ? 'no "type"' : `type ${JSON.stringify(type)}`;
    return `a ${what} has ${got}; use one of ${types.map((t) => `"${t}"`).join(', ')}`;
  };
}
