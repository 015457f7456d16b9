import { createRoute, z } from '@hono/zod-openapi';
import { TaskFlowError } from '../../core/errors.ts';
import {
  checkDocumentValue,
  type Definition,
  type DefinitionRegistry,
  DocumentError,
  flowDocumentJsonSchema,
  parseDocumentText,
} from '../../documents/index.ts';
import { toGraph } from '../../patterns/graph-export.ts';
import { jsonResponse, problemResponses } from '../openapi-responses.ts';
import { ProblemError } from '../problem.ts';
import { FlowSchema } from '../schemas.ts';
import type { ServiceApp } from '../service-env.ts';
import { registerWorkerTaskRoutes } from './worker-task-routes.ts';

const NameParam = z.object({
  name: z
    .string()
    .min(1)
    .max(256)
    .openapi({ param: { name: 'name', in: 'path' } }),
});
const VersionParams = NameParam.extend({
  version: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'version', in: 'path' } }),
});

const DefinitionSummarySchema = z
  .object({
    name: z.string(),
    version: z.string(),
    digest: z.string().openapi({ description: "SHA-256 of the document's canonical JSON" }),
    createdAt: z.string().openapi({ description: 'when it was stored (ISO 8601)' }),
    links: z.object({ self: z.string(), runs: z.string() }),
  })
  .openapi('DefinitionSummary');

const DefinitionSchema = DefinitionSummarySchema.extend({
  description: z.string().nullable(),
  inputs: z.array(z.string()).openapi({ description: 'what a run must be given' }),
  requires: FlowSchema.shape.requires,
  provides: FlowSchema.shape.provides,
  graph: FlowSchema.shape.graph,
  document: z.record(z.string(), z.unknown()).openapi({ description: 'the stored document' }),
}).openapi('Definition');

const DefinitionListSchema = z
  .object({ items: z.array(DefinitionSummarySchema) })
  .openapi('DefinitionList');

const DocumentBody = z.record(z.string(), z.unknown()).openapi('FlowDocument', {
  description: 'a flow document; GET /v1/schemas/flow-document has its JSON Schema',
});

const putDefinition = createRoute({
  method: 'post',
  path: '/v1/definitions',
  summary: 'Store a flow document as a definition (name and version, immutable once stored)',
  request: {
    body: {
      required: true,
      content: {
        'application/json': { schema: DocumentBody },
        'application/yaml': { schema: z.string().openapi({ description: 'the document as YAML' }) },
      },
    },
  },
  responses: {
    200: jsonResponse(DefinitionSchema, 'this exact document was stored already'),
    201: jsonResponse(DefinitionSchema, 'the definition is stored; runs may name it'),
    ...problemResponses(400, 401, 403, 409, 413, 415, 503),
  },
});

const listDefinitions = createRoute({
  method: 'get',
  path: '/v1/definitions',
  summary: 'Every stored definition, each version, by name',
  responses: {
    200: jsonResponse(DefinitionListSchema, 'the definitions'),
    ...problemResponses(401, 503),
  },
});

const getNewest = createRoute({
  method: 'get',
  path: '/v1/definitions/{name}',
  summary: "A definition's newest version: its document, inputs and graph",
  request: { params: NameParam },
  responses: {
    200: jsonResponse(DefinitionSchema, 'the definition'),
    ...problemResponses(401, 404, 503),
  },
});

const getVersion = createRoute({
  method: 'get',
  path: '/v1/definitions/{name}/versions/{version}',
  summary: 'One version of a definition',
  request: { params: VersionParams },
  responses: {
    200: jsonResponse(DefinitionSchema, 'the definition'),
    ...problemResponses(401, 404, 503),
  },
});

const getSchema = createRoute({
  method: 'get',
  path: '/v1/schemas/flow-document',
  summary: 'The JSON Schema (2020-12) of flow documents',
  responses: {
    200: jsonResponse(z.record(z.string(), z.unknown()), 'the JSON Schema'),
    ...problemResponses(401),
  },
});

/**
 * `POST /v1/definitions`, `GET /v1/definitions`, `GET /v1/definitions/:name`,
 * `GET /v1/definitions/:name/versions/:version` and `GET /v1/schemas/flow-document`: flow
 * documents stored by the service's {@link DefinitionRegistry}, which its conductors run; and,
 * when the registry has a worker queue, the routes where workers claim its `worker` tasks.
 */
export function registerDefinitionRoutes(app: ServiceApp, registry: DefinitionRegistry): void {
  const schema = flowDocumentJsonSchema();

  app.openapi(putDefinition, async (c) => {
    const value = readDocument(c.req.header('Content-Type'), await c.req.text());
    const { definition, created } = await store(registry, value);
    const view = DefinitionSchema.parse(definitionView(definition));
    if (created) c.header('Location', view.links.self);
    return c.json(view, created ? 201 : 200);
  });

  app.openapi(listDefinitions, async (c) => {
    const items = (await registry.list()).map(summaryView);
    return c.json(DefinitionListSchema.parse({ items }), 200);
  });

  app.openapi(getNewest, async (c) => {
    const { name } = c.req.valid('param');
    const definition = await found(registry, name, undefined);
    return c.json(DefinitionSchema.parse(definitionView(definition)), 200);
  });

  app.openapi(getVersion, async (c) => {
    const { name, version } = c.req.valid('param');
    const definition = await found(registry, name, version);
    return c.json(DefinitionSchema.parse(definitionView(definition)), 200);
  });

  app.openapi(getSchema, (c) => c.json(schema, 200));
  if (registry.workers !== undefined) registerWorkerTaskRoutes(app, registry.workers);
}

/**
 * The document of a request body: JSON, or YAML (the route's media types; the OpenAPI layer
 * refuses any other with 415 before this runs).
 */
function readDocument(contentType: string | undefined, text: string): unknown {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  try {
    if (type !== 'application/json') return parseDocumentText(text);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new DocumentError([
        {
          code: 'SYNTAX',
          path: '$',
          message: `the body is not valid JSON (${(error as Error).message}); send the document as JSON, or as YAML with Content-Type: application/yaml`,
        },
      ]);
    }
    checkDocumentValue(value);
    return value;
  } catch (error) {
    throw documentProblem(error);
  }
}

async function store(
  registry: DefinitionRegistry,
  value: unknown,
): Promise<{ definition: Definition; created: boolean }> {
  try {
    return await registry.put(value);
  } catch (error) {
    if (error instanceof TaskFlowError && error.code === 'DEFINITION_EXISTS') {
      throw new ProblemError(409, 'definition-exists', 'Definition version exists', error.message);
    }
    throw documentProblem(error);
  }
}

function documentProblem(error: unknown): unknown {
  if (!(error instanceof DocumentError)) return error;
  const lines = error.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  return new ProblemError(
    400,
    'invalid-document',
    'Invalid flow document',
    `The flow document has ${error.issues.length} problem(s), nothing was stored: ${lines}.`,
    error.issues.map((issue) => ({ path: issue.path, code: issue.code, message: issue.message })),
  );
}

async function found(
  registry: DefinitionRegistry,
  name: string,
  version: string | undefined,
): Promise<Definition> {
  const definition = await registry.get(name, version);
  if (definition !== undefined) return definition;
  const which = version === undefined ? '' : ` in version ${JSON.stringify(version)}`;
  throw new ProblemError(
    404,
    'definition-not-found',
    'Definition not found',
    `No definition named ${JSON.stringify(name)}${which} is stored; GET /v1/definitions lists them.`,
  );
}

function linksOf(name: string, version: string): { self: string; runs: string } {
  const base = `/v1/definitions/${encodeURIComponent(name)}`;
  return {
    self: `${base}/versions/${encodeURIComponent(version)}`,
    runs: `/v1/runs?flow=${encodeURIComponent(name)}`,
  };
}

function summaryView(d: { name: string; version: string; digest: string; createdAt: number }) {
  return {
    name: d.name,
    version: d.version,
    digest: d.digest,
    createdAt: new Date(d.createdAt).toISOString(),
    links: linksOf(d.name, d.version),
  };
}

function definitionView(definition: Definition) {
  return {
    ...summaryView(definition),
    description: definition.document.description ?? null,
    inputs: definition.document.inputs ?? [],
    requires: definition.flow.requires,
    provides: definition.flow.provides,
    graph: toGraph(definition.flow),
    document: definition.document,
  };
}
