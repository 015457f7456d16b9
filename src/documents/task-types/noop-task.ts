import type { Inputs } from '../../core/atom.ts';
import type { JsonValue } from '../../core/failure.ts';
import { Task } from '../../core/task.ts';
import type { TaskNode } from '../document-schema.ts';
import { taskOptionsOf } from './atom-options.ts';

/**
 * A document's `noop` task: does nothing and returns its `result` (null by default). For tests,
 * demos, and joining branches.
 *
 * @example
 * new NoopTask({ type: 'noop', name: 'done', provides: 'status', result: 'ok' });
 */
export class NoopTask extends Task<Inputs, JsonValue> {
  readonly #result: JsonValue;

  constructor(node: Extract<TaskNode, { readonly type: 'noop' }>) {
    super(taskOptionsOf(node));
    this.#result = node.result ?? null;
  }

  execute(): JsonValue {
    return this.#result;
  }
}
