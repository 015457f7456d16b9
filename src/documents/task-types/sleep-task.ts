import { setTimeout as sleep } from 'node:timers/promises';
import type { Inputs } from '../../core/atom.ts';
import { type AtomContext, Task } from '../../core/task.ts';
import type { TaskNode } from '../document-schema.ts';
import { taskOptionsOf } from './atom-options.ts';

/**
 * A document's `sleep` task: waits `durationMs`, then returns null. It holds its conductor slot
 * while it waits (durable timers are not there yet); a timeout or a cancel ends the wait.
 *
 * @example
 * new SleepTask({ type: 'sleep', name: 'cool-down', durationMs: 500 });
 */
export class SleepTask extends Task<Inputs, null> {
  readonly durationMs: number;

  constructor(node: Extract<TaskNode, { readonly type: 'sleep' }>) {
    super(taskOptionsOf(node));
    this.durationMs = node.durationMs;
  }

  async execute(_inputs: Inputs, context: AtomContext): Promise<null> {
    await sleep(this.durationMs, undefined, { signal: context.signal });
    return null;
  }
}
