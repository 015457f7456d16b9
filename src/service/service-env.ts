import type { OpenAPIHono } from '@hono/zod-openapi';
import type { RequestIdVariables } from 'hono/request-id';

/** The Hono environment of the service's routes: each request has an id. */
export interface ServiceEnv {
  Variables: RequestIdVariables;
}

/** The app every route module registers on. */
export type ServiceApp = OpenAPIHono<ServiceEnv>;
