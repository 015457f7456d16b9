import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { DefinitionRegistry } from '../documents/definition-registry.ts';
import type { RunChangeFeed } from '../persistence/change-feed/change-feed.ts';
import { bearerAuth } from './auth/bearer-auth.ts';
import type { TokenStore } from './auth/token-store.ts';
import { defaultDashboardDir } from './dashboard-assets.ts';
import { registerDashboardRoutes } from './dashboard-routes.ts';
import { EventStreams } from './event-streams.ts';
import type { FinishedRuns } from './finished-runs.ts';
import { FlowCatalog } from './flow-catalog.ts';
import { problemOfLibraryError } from './library-errors.ts';
import { ProblemError, problemResponse } from './problem.ts';
import { registerActionRoutes } from './routes/action-routes.ts';
import { registerDefinitionRoutes } from './routes/definition-routes.ts';
import { registerEventRoutes } from './routes/event-routes.ts';
import { registerFlowRoutes } from './routes/flow-routes.ts';
import { registerJobRoutes } from './routes/job-routes.ts';
import { registerRunRoutes } from './routes/run-routes.ts';
import { registerStatusRoutes } from './routes/status-routes.ts';
import { registerTokenRoutes } from './routes/token-routes.ts';
import type { ServiceDeps } from './service-deps.ts';
import type { ServiceApp, ServiceEnv } from './service-env.ts';

/** The default largest request body: 1 MiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** Where the OpenAPI 3.1 document of the API is served. */
export const OPENAPI_PATH = '/v1/openapi.json';

/** Options of {@link createServiceApp}. */
export interface ServiceAppOptions extends ServiceDeps {
  /**
   * Who may call the API: bearer tokens checked against a token store (see `openTokenStore`),
   * or `'none'` for no checks at all (`startService` allows that only on a loopback address).
   */
  readonly auth: { readonly tokens: Omit<TokenStore, 'close'> } | 'none';
  /**
   * Browser origins allowed to call the API from their pages (CORS), e.g.
   * `['https://ops.example.com']`. Default none: CORS is off.
   */
  readonly corsOrigins?: readonly string[];
  /** The run store's change feed, for the event streams (see `openRunChangeFeed`). */
  readonly feed: RunChangeFeed;
  /** The event streams' registry, to end them all at a shutdown. A new one by default. */
  readonly streams?: EventStreams;
  /** Largest request body in bytes; a bigger one gets 413. Default 1 MiB. */
  readonly bodyLimitBytes?: number;
  /**
   * The directory of the built dashboard served at `/` (default: the one built into the
   * package, `dist/dashboard/`); `false` serves no dashboard.
   */
  readonly dashboard?: string | false;
  /**
   * Keeps the answers of finished runs for a moment (see {@link FinishedRuns}); whoever makes
   * it must evict runs whose jobs change in other processes, as `startService` does from the
   * board's events. Default none: every read goes to the store.
   */
  readonly finishedRuns?: FinishedRuns;
  /** Receives errors that became a 500, for the server's log (never sent to the client). */
  readonly onError?: (error: unknown, requestId: string) => void;
}

/**
 * The `/v1` HTTP API as a Hono app, without a server: mount it, or serve it with
 * {@link startService}. Every error is an `application/problem+json` document.
 *
 * @example
 * const app = createServiceApp({ runs, board, registry, feed, auth: { tokens } });
 * const response = await app.request('/v1/flows');
 */
export function createServiceApp(options: ServiceAppOptions): ServiceApp {
  const app: ServiceApp = new OpenAPIHono<ServiceEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationProblem(result.error.issues, result.target);
    },
  });
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  app.use('*', requestId());
  // The dashboard's files are public: the page itself asks for a token and sends it to /v1.
  if (options.dashboard !== false) {
    registerDashboardRoutes(app, options.dashboard ?? defaultDashboardDir());
  }
  const origins = options.corsOrigins ?? [];
  if (origins.length > 0) {
    // Before auth: a browser's preflight carries no token.
    app.use(
      '/v1/*',
      cors({
        origin: [...origins],
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID'],
        exposeHeaders: ['Location'],
        maxAge: 600,
      }),
    );
  }
  if (options.auth !== 'none') app.use('*', bearerAuth(options.auth.tokens));
  const limitBody = bodyLimit({
    maxSize: limit,
    onError: (c) => {
      const response = problemResponse(
        c,
        new ProblemError(
          413,
          'body-too-large',
          'Request body too large',
          `The request body is over ${limit} bytes; send a smaller one.`,
        ),
      );
      // The rest of the body is never read, so the connection cannot carry another request.
      response.headers.set('Connection', 'close');
      return response;
    },
  });
  // Reads carry no body, and looking for one makes the server build a full Request per call.
  app.use('*', (c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next),
  );
  const catalog = new FlowCatalog(options.registry);
  registerStatusRoutes(app, options);
  registerFlowRoutes(app, catalog);
  if (options.registry instanceof DefinitionRegistry) {
    registerDefinitionRoutes(app, options.registry);
  }
  const finished = options.finishedRuns;
  registerRunRoutes(app, { ...options, catalog, ...(finished ? { finished } : {}) });
  registerActionRoutes(app, { ...options, ...(finished ? { finished } : {}) });
  registerJobRoutes(app, { ...options, ...(finished ? { finished } : {}) });
  registerEventRoutes(app, { ...options, streams: options.streams ?? new EventStreams() });
  if (options.auth !== 'none') registerTokenRoutes(app, options.auth.tokens);
  app.doc31(OPENAPI_PATH, {
    openapi: '3.1.0',
    info: {
      title: 'taskflow-ts workflow service',
      version: '1',
      description: 'Runs of registered flows, their jobs and conductors.',
    },
  });
  app.notFound((c) =>
    problemResponse(
      c,
      new ProblemError(
        404,
        'not-found',
        'Not found',
        `There is no route ${c.req.method} ${new URL(c.req.url).pathname}; /v1/openapi.json lists the routes.`,
      ),
    ),
  );
  app.onError((error, c) => problemResponse(c, toProblem(error, c, options.onError)));
  return app;
}

/** Problem types of the refusals the framework itself makes, by status. */
const FRAMEWORK_REFUSALS: Readonly<Record<number, readonly [string, string]>> = {
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  413: ['body-too-large', 'Request body too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
};

function toProblem(
  error: unknown,
  c: Context,
  onError: ServiceAppOptions['onError'],
): ProblemError {
  if (error instanceof ProblemError) return error;
  const known = problemOfLibraryError(error);
  if (known !== undefined) {
    if (known.status === 503) onError?.(error, requestIdOf(c));
    return known;
  }
  if (error instanceof HTTPException && error.status < 500) {
    const [kind, title] = FRAMEWORK_REFUSALS[error.status] ?? ['bad-request', 'Bad request'];
    return new ProblemError(error.status, kind, title, error.message);
  }
  onError?.(error, requestIdOf(c));
  return new ProblemError(
    500,
    'internal-error',
    'Internal error',
    `The service failed to answer; its log has the error under request id ${requestIdOf(c)}.`,
  );
}

function requestIdOf(c: Context): string {
  return (c.get('requestId' as never) as string | undefined) ?? 'unknown';
}

function validationProblem(
  issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
  target: string,
): ProblemError {
  const where = target === 'json' ? 'body' : target;
  const errors = issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const detail = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return new ProblemError(
    400,
    'invalid-request',
    'Invalid request',
    `The request does not match the API: ${detail}.`,
    errors,
  );
}
