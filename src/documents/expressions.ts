import jsonata from 'jsonata';
import { TaskFlowError } from '../core/errors.ts';

// JSONata expressions of flow documents (link conditions, templates, result selection). They are
// data, never JavaScript: JSONata has no access to the process, and each evaluation has a step
// budget so that a recursive expression cannot spin forever.

/** Evaluation steps one expression may take before it is stopped. */
export const MAX_EXPRESSION_STEPS = 100_000;

const ENTRY = Symbol.for('jsonata.__evaluate_entry');

/**
 * Why `text` is not a JSONata expression (with the position of the error), or undefined.
 *
 * @example
 * expressionProblem('a.b >'); // 'is not valid JSONata at position 5: ...'
 */
export function expressionProblem(text: string): string | undefined {
  try {
    jsonata(text);
    return undefined;
  } catch (error) {
    const { message, position } = error as { message?: string; position?: number };
    const where = position === undefined ? '' : ` at position ${position}`;
    return `${JSON.stringify(text)} is not valid JSONata${where}: ${message ?? String(error)}`;
  }
}

/**
 * Evaluates a JSONata expression over `input` with `$name` bindings, and returns its value as
 * plain JSON (JSONata's sequences become arrays; no value is `undefined`).
 *
 * @example
 * await evaluateExpression('body.id', { body: { id: 'v-1' } }); // 'v-1'
 */
export async function evaluateExpression(
  text: string,
  input: unknown,
  bindings: Readonly<Record<string, unknown>> = {},
): Promise<unknown> {
  const expression = jsonata(text);
  let steps = 0;
  expression.assign(ENTRY as unknown as string, () => {
    steps += 1;
    if (steps > MAX_EXPRESSION_STEPS) {
      throw new TaskFlowError(
        'EXPRESSION_BUDGET',
        `Expression ${JSON.stringify(text)} took over ${MAX_EXPRESSION_STEPS} steps and was stopped; simplify it.`,
      );
    }
  });
  let value: unknown;
  try {
    value = await expression.evaluate(input, { ...bindings });
  } catch (error) {
    if (error instanceof TaskFlowError) throw error;
    throw new TaskFlowError(
      'EXPRESSION_FAILED',
      `Expression ${JSON.stringify(text)} failed: ${(error as Error).message}.`,
      { cause: error },
    );
  }
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}
