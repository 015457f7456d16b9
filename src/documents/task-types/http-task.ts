import type { Inputs } from '../../core/atom.ts';
import type { JsonValue } from '../../core/failure.ts';
import { type AtomContext, type RevertContext, Task } from '../../core/task.ts';
import { childPath, type DocumentIssue } from '../document-error.ts';
import type { HttpTaskNode } from '../document-schema.ts';
import { evaluateExpression, expressionProblem } from '../expressions.ts';
import { taskOptionsOf } from './atom-options.ts';
import {
  type HttpEnvironment,
  type HttpRequestSpec,
  parseHttpRequest,
  sendHttpRequest,
} from './http-request.ts';

const SUCCESS: readonly [number, number][] = [[200, 299]];
// Undoing something already gone is done: a revert's 404 counts as success by default.
const REVERT_SUCCESS: readonly [number, number][] = [
  [200, 299],
  [404, 404],
];

/**
 * A document's `http` task: execute is one HTTP request built from the task's inputs, its
 * result the parsed response body (or what `result` selects from `{ status, headers, body }`);
 * revert, when given, is another request that reads the execute result as `$result`. Every
 * request carries the atom's idempotency key as `Idempotency-Key` (the revert's with
 * `:revert` appended, since it is a different request).
 *
 * @example
 * const task = HttpTask.parse(node, '$.flow.children[0]', { allowHosts: ['api.example.com'], secrets: {} }, issues);
 */
export class HttpTask extends Task<Inputs, JsonValue> {
  readonly #execute: HttpRequestSpec;
  readonly #revert: HttpRequestSpec | undefined;
  readonly #result: string | undefined;
  readonly #environment: HttpEnvironment;

  private constructor(
    node: HttpTaskNode,
    parts: {
      readonly execute: HttpRequestSpec;
      readonly revert: HttpRequestSpec | undefined;
      readonly environment: HttpEnvironment;
    },
  ) {
    super(taskOptionsOf(node));
    this.#execute = parts.execute;
    this.#revert = parts.revert;
    this.#result = node.result;
    this.#environment = parts.environment;
  }

  /** Checks an `http` task of a document; adds an issue per problem, undefined when any. */
  static parse(
    node: HttpTaskNode,
    path: string,
    environment: HttpEnvironment,
    issues: DocumentIssue[],
  ): HttpTask | undefined {
    const before = issues.length;
    const execute = parseHttpRequest(node, path, environment, issues, SUCCESS);
    const revertPath = childPath(path, 'revert');
    const revert =
      node.revert === undefined
        ? undefined
        : parseHttpRequest(node.revert, revertPath, environment, issues, REVERT_SUCCESS);
    if (node.result !== undefined) {
      const problem = expressionProblem(node.result);
      if (problem !== undefined) {
        issues.push({
          code: 'EXPRESSION',
          path: childPath(path, 'result'),
          message: `${problem}; select the result with JSONata over { status, headers, body }`,
        });
      }
    }
    if (issues.length > before || execute === undefined) return undefined;
    return new HttpTask(node, { execute, revert, environment });
  }

  async execute(inputs: Inputs, context: AtomContext): Promise<JsonValue> {
    const response = await sendHttpRequest(this.#execute, {
      task: this.name,
      input: inputs,
      bindings: { attempt: context.attempt },
      idempotencyKey: context.idempotencyKey,
      signal: context.signal,
      environment: this.#environment,
    });
    if (this.#result === undefined) return response.body;
    const selected = await evaluateExpression(this.#result, response);
    return (selected ?? null) as JsonValue;
  }

  override async revert(inputs: Inputs, context: RevertContext<JsonValue>): Promise<void> {
    // A failed execute left nothing this task knows how to undo.
    if (this.#revert === undefined || !context.outcome.ok) return;
    await sendHttpRequest(this.#revert, {
      task: this.name,
      input: inputs,
      bindings: { attempt: context.attempt, result: context.outcome.result },
      idempotencyKey: `${context.idempotencyKey}:revert`,
      signal: context.signal,
      environment: this.#environment,
    });
  }
}
