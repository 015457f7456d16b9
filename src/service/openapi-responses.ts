import { ProblemSchema } from './schemas.ts';

const DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'the request is malformed or names a missing input',
  401: 'no valid bearer token',
  403: 'the token lacks the scope this route needs',
  404: 'no such resource',
  409: 'the action does not fit the current state',
  413: 'the body is over the size limit',
  503: 'the run store or jobboard cannot be reached',
};

/** The problem responses of a route, for its OpenAPI description. */
export function problemResponses(...statuses: readonly number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: DESCRIPTIONS[status] ?? 'an error',
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  );
}

/** A JSON response of a route, for its OpenAPI description. */
export function jsonResponse<T>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}
