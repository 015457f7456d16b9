import type { MiddlewareHandler } from 'hono';
import { ProblemError } from '../problem.ts';
import type { ServiceEnv } from '../service-env.ts';
import { scopeAllows, type TokenScope, type TokenStore } from './token-store.ts';

/** Routes anyone may call: liveness, readiness and the API's description. */
const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/v1/openapi.json']);

/**
 * What a request needs: reading needs `read`, anything that changes state `operate`, and the
 * token routes (`/v1/tokens...`) `admin`.
 *
 * @example
 * scopeFor('POST', '/v1/runs'); // 'operate'
 */
export function scopeFor(method: string, path: string): TokenScope {
  if (path === '/v1/tokens' || path.startsWith('/v1/tokens/')) return 'admin';
  return method === 'GET' || method === 'HEAD' ? 'read' : 'operate';
}

/**
 * Checks the `Authorization: Bearer TOKEN` of every non-public request against the token
 * store: 401 without a valid token, 403 when its scope is too small. The token itself never
 * appears in a response or a log line.
 */
export function bearerAuth(tokens: Pick<TokenStore, 'verify'>): MiddlewareHandler<ServiceEnv> {
  return async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path)) return next();
    const header = c.req.header('Authorization');
    const match = header === undefined ? null : /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
    if (match === null) {
      c.header('WWW-Authenticate', 'Bearer realm="taskflow"');
      throw new ProblemError(
        401,
        'unauthorized',
        'Unauthorized',
        'This route needs a bearer token: send "Authorization: Bearer TOKEN"; an operator makes one with "taskflow tokens create --scope read".',
      );
    }
    const found = await tokens.verify(match[1] as string);
    if (found === undefined) {
      c.header('WWW-Authenticate', 'Bearer realm="taskflow", error="invalid_token"');
      throw new ProblemError(
        401,
        'unauthorized',
        'Unauthorized',
        'The bearer token is unknown or revoked; ask an operator for a valid one.',
      );
    }
    const needed = scopeFor(c.req.method, c.req.path);
    if (!scopeAllows(found.scope, needed)) {
      throw new ProblemError(
        403,
        'forbidden',
        'Forbidden',
        `${c.req.method} ${c.req.path} needs a token with scope "${needed}" (or higher), and this token has "${found.scope}".`,
      );
    }
    c.set('caller', found.label || `token ${found.id}`);
    c.set('scope', found.scope);
    await next();
  };
}

/**
 * True for an address only this machine can reach: 127.0.0.0/8, ::1, localhost.
 *
 * @example
 * isLoopback('127.0.0.1'); // true; isLoopback('0.0.0.0') is false
 */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
