import { ProblemError } from '../problem.ts';

/** A comma-separated state filter (`RUNNING,FAILURE`, any case), each checked against `allowed`. */
export function parseStates<T extends string>(
  text: string | undefined,
  allowed: readonly T[],
  parameter: string,
): T[] {
  if (text === undefined) return [];
  const states = text
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== '');
  const wrong = states.find((s) => !(allowed as readonly string[]).includes(s));
  if (wrong !== undefined) {
    throw new ProblemError(
      400,
      'invalid-query',
      'Invalid query',
      `Query parameter "${parameter}" has ${JSON.stringify(wrong)}, which is not one of ${allowed.join(', ')}.`,
      [{ path: `query.${parameter}`, message: `not one of ${allowed.join(', ')}` }],
    );
  }
  return states as T[];
}
