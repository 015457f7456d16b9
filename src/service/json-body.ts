import type { MiddlewareHandler } from 'hono';
import { findJsonProblem } from '../core/json-safety.ts';
import { ProblemError } from './problem.ts';

/** Keys that name an object's prototype machinery; refused anywhere in a request body. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses a JSON request body before the route's schema sees it, and refuses with a 400 a body
 * that is not JSON, that holds a key such as `__proto__` or `constructor` at any depth (which
 * could otherwise reach an object's prototype in code that copies the inputs), or a value JSON
 * cannot store back (`1e999` parses as Infinity).
 */
export const checkedJsonBody: MiddlewareHandler = async (c, next) => {
  await checkJsonText(await c.req.text());
  await next();
};

/** As {@link checkedJsonBody}, for routes whose body may be left out (an empty body passes). */
export const checkedOptionalJsonBody: MiddlewareHandler = async (c, next) => {
  const text = await c.req.text();
  if (text.trim() !== '') await checkJsonText(text);
  await next();
};

async function checkJsonText(text: string): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ProblemError(
      400,
      'malformed-json',
      'Malformed JSON',
      `The request body is not valid JSON (${(error as Error).message}); send a JSON object with Content-Type: application/json.`,
    );
  }
  const key = forbiddenKeyPath(body, 'body');
  if (key !== undefined) {
    throw new ProblemError(
      400,
      'forbidden-key',
      'Forbidden key',
      `${key} is a key this service refuses (${[...FORBIDDEN_KEYS].join(', ')}), because it can reach an object's prototype; rename it.`,
      [{ path: key, message: 'forbidden key' }],
    );
  }
  const problem = findJsonProblem(body, 'body');
  if (problem !== undefined) {
    throw new ProblemError(
      400,
      'not-storable',
      'Value cannot be stored',
      `${problem.path} ${problem.reason}.`,
      [{ path: problem.path, message: problem.reason }],
    );
  }
}

function forbiddenKeyPath(value: unknown, path: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = forbiddenKeyPath(item, `${path}[${index}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const child = `${path}[${JSON.stringify(key)}]`;
    if (FORBIDDEN_KEYS.has(key)) return child;
    const found = forbiddenKeyPath((value as Record<string, unknown>)[key], child);
    if (found !== undefined) return found;
  }
  return undefined;
}
