import type { OpenAPIHono } from '@hono/zod-openapi';
import type { RequestIdVariables } from 'hono/request-id';
import type { TokenScope } from './auth/token-store.ts';

/**
 * The Hono environment of the service's routes: each request has an id, and, when auth is on,
 * the caller (its token's label, or its id when the token has none) for the audit list.
 */
export interface ServiceEnv {
  Variables: RequestIdVariables & { caller?: string; scope?: TokenScope };
}

/** The app every route module registers on. */
export type ServiceApp = OpenAPIHono<ServiceEnv>;
