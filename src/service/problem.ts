import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The media type of every error response (RFC 9457). */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** The prefix of the `type` URI of every problem; the rest names the kind of problem. */
const PROBLEM_BASE = 'urn:taskflow-ts:problem:';

/**
 * An error response of the service as RFC 9457 describes it: `type` names the kind of problem,
 * `title` says it in a few words, `detail` says what was wrong with this request and how to fix
 * it, `requestId` ties it to the server's log.
 */
export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly requestId: string;
  /** The request fields that were wrong, for a validation problem. */
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
}

/**
 * Thrown by a route to answer with a problem document; the app's error handler renders it.
 *
 * @example
 * throw new ProblemError(404, 'run-not-found', 'Run not found', `No run has id "${id}".`);
 */
export class ProblemError extends Error {
  readonly status: ContentfulStatusCode;
  readonly kind: string;
  readonly title: string;
  readonly errors: ProblemDocument['errors'];

  constructor(
    status: ContentfulStatusCode,
    kind: string,
    title: string,
    detail: string,
    errors?: ProblemDocument['errors'],
  ) {
    super(detail);
    this.name = 'ProblemError';
    this.status = status;
    this.kind = kind;
    this.title = title;
    this.errors = errors;
  }
}

/** The request id the request-id middleware gave this request. */
export function requestIdOf(c: Context): string {
  return (c.get('requestId' as never) as string | undefined) ?? 'unknown';
}

/**
 * Renders a {@link ProblemError} as an `application/problem+json` response.
 *
 * @example
 * app.notFound((c) => problemResponse(c, new ProblemError(404, 'not-found', 'Not found', 'No such route.')));
 */
export function problemResponse(c: Context, problem: ProblemError): Response {
  const body: ProblemDocument = {
    type: `${PROBLEM_BASE}${problem.kind}`,
    title: problem.title,
    status: problem.status,
    detail: problem.message,
    requestId: requestIdOf(c),
    ...(problem.errors === undefined ? {} : { errors: problem.errors }),
  };
  return c.body(JSON.stringify(body), problem.status, { 'Content-Type': PROBLEM_MEDIA_TYPE });
}
