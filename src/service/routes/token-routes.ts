import { createRoute, z } from '@hono/zod-openapi';
import { TOKEN_SCOPES, type TokenStore } from '../auth/token-store.ts';
import { checkedJsonBody } from '../json-body.ts';
import { jsonResponse, problemResponses } from '../openapi-responses.ts';
import { ProblemError } from '../problem.ts';
import { IdParamSchema } from '../schemas.ts';
import type { ServiceApp } from '../service-env.ts';

const TokenSchema = z
  .object({
    id: z.string(),
    scope: z.enum(TOKEN_SCOPES),
    label: z.string(),
    createdAt: z.number(),
    revokedAt: z.number().nullable(),
  })
  .openapi('Token', { description: 'a bearer token as stored: never the token itself' });

const CreatedTokenSchema = TokenSchema.extend({
  token: z
    .string()
    .openapi({ description: 'the bearer token, shown this once; only its hash is kept' }),
}).openapi('CreatedToken');

const CreateTokenSchema = z
  .strictObject({
    scope: z.enum(TOKEN_SCOPES),
    label: z
      .string()
      .min(1)
      .max(200)
      .openapi({ description: 'who or what uses it, for the audit list' }),
  })
  .openapi('CreateToken');

const listTokens = createRoute({
  method: 'get',
  path: '/v1/tokens',
  summary: 'The bearer tokens (never the tokens themselves); needs the admin scope',
  responses: {
    200: jsonResponse(z.object({ items: z.array(TokenSchema) }).openapi('TokenList'), 'the tokens'),
    ...problemResponses(401, 403, 503),
  },
});

const createToken = createRoute({
  method: 'post',
  path: '/v1/tokens',
  summary: 'Make a bearer token; it is in this response only. Needs the admin scope',
  middleware: [checkedJsonBody] as const,
  request: {
    body: { required: true, content: { 'application/json': { schema: CreateTokenSchema } } },
  },
  responses: {
    201: jsonResponse(CreatedTokenSchema, 'the token, shown once'),
    ...problemResponses(400, 401, 403, 413, 503),
  },
});

const revokeToken = createRoute({
  method: 'post',
  path: '/v1/tokens/{id}/revoke',
  summary: 'Revoke a bearer token at once; needs the admin scope',
  request: { params: IdParamSchema },
  responses: {
    204: { description: 'the token is revoked' },
    ...problemResponses(401, 403, 404, 503),
  },
});

/**
 * `GET /v1/tokens`, `POST /v1/tokens`, `POST /v1/tokens/:id/revoke`: token management over
 * HTTP, as `taskflow tokens` does it from a shell. Every route needs the `admin` scope (see
 * `scopeFor`); a new token is shown in its creation's response only.
 */
export function registerTokenRoutes(app: ServiceApp, tokens: Omit<TokenStore, 'close'>): void {
  app.openapi(listTokens, async (c) => c.json({ items: await tokens.list() }, 200));

  app.openapi(createToken, async (c) => {
    const { scope, label } = c.req.valid('json');
    return c.json(await tokens.create(scope, label), 201);
  });

  app.openapi(revokeToken, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await tokens.revoke(id))) {
      throw new ProblemError(
        404,
        'token-not-found',
        'Token not found',
        `No token has id ${JSON.stringify(id)}; GET /v1/tokens lists them.`,
      );
    }
    return c.body(null, 204);
  });
}
