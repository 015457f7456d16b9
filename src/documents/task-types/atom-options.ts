import type { Inputs } from '../../core/atom.ts';
import type { TaskOptions } from '../../core/task.ts';
import type { TaskNode } from '../document-schema.ts';

/** A document task's common fields as the options of a library task (absent fields left out). */
export function taskOptionsOf(node: TaskNode): TaskOptions<Inputs, unknown> {
  return {
    name: node.name,
    ...(node.requires === undefined ? {} : { requires: node.requires }),
    ...(node.optional === undefined ? {} : { optional: node.optional }),
    ...(node.rebind === undefined ? {} : { rebind: node.rebind }),
    ...(node.inject === undefined ? {} : { inject: node.inject }),
    ...(node.priority === undefined ? {} : { priority: node.priority }),
    ...(node.version === undefined ? {} : { version: node.version }),
    ...(node.provides === undefined ? {} : { provides: node.provides }),
    ...(node.timeoutMs === undefined ? {} : { timeoutMs: node.timeoutMs }),
  };
}
