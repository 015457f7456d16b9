// The workflow service: the /v1 HTTP API over runs, jobs and conductors (`taskflow serve`).

// Flow documents and the definitions the service stores (src/documents/).
export * from '../documents/index.ts';
export { isLoopback, scopeFor } from './auth/bearer-auth.ts';
export { openTokenStore } from './auth/open-token-store.ts';
export {
  type CreatedToken,
  isTokenScope,
  TOKEN_SCOPES,
  type TokenInfo,
  type TokenScope,
  type TokenStore,
} from './auth/token-store.ts';
export { EventStreams, RECONNECT_HINT_MS } from './event-streams.ts';
export type { FlowDescription } from './flow-catalog.ts';
export { PROBLEM_MEDIA_TYPE, type ProblemDocument, ProblemError } from './problem.ts';
export {
  createServiceApp,
  DEFAULT_BODY_LIMIT_BYTES,
  OPENAPI_PATH,
  type ServiceAppOptions,
} from './service-app.ts';
export type { ServiceBoard, ServiceDeps, ServiceRegistry } from './service-deps.ts';
export type { ServiceApp, ServiceEnv } from './service-env.ts';
export { type RunningService, type StartServiceOptions, startService } from './start-service.ts';
