import { workerData } from 'node:worker_threads';
import { TaskFlowError } from '../core/errors.ts';
import { Failure } from '../core/failure.ts';
import { findJsonProblem } from '../core/json-safety.ts';
import { Task } from '../core/task.ts';
import type { ThreadAnswer, ThreadData, ThreadRequest } from './thread-protocol.ts';

// A worker thread of a ThreadExecutor: loads the tasks module once, then runs one execute or
// revert per request. Whatever the task throws comes back as a Failure; only a crash of the
// thread itself (or its termination on timeout) is the pool's to report.

const { tasks: moduleUrl, preload } = workerData as ThreadData;
const loaded = (async () => {
  for (const module of preload) await import(module);
  return indexTasks(await import(moduleUrl));
})();

export default async function run(request: ThreadRequest): Promise<ThreadAnswer> {
  try {
    const task = (await loaded).get(key(request.task.name, request.task.version));
    if (task === undefined) throw await unknownTask(request);
    const context = {
      attempt: request.attempt,
      idempotencyKey: request.idempotencyKey,
      // A timeout or a cancel ends the thread itself; nothing here is ever aborted.
      signal: new AbortController().signal,
      progress: (fraction: number, details?: unknown) =>
        request.progress.postMessage({ fraction, details }),
      lease: undefined,
    };
    const result =
      request.phase === 'execute'
        ? await task.execute(request.inputs, context)
        : await task.revert(request.inputs, {
            ...context,
            outcome: revertOutcome(request),
            flowFailures: new Map(),
          });
    // Nothing at all (a task or revert that returns nothing) is no problem to carry back.
    const problem = result === undefined ? undefined : findJsonProblem(result, 'result');
    if (problem !== undefined) {
      throw new TaskFlowError(
        'NOT_SERIALIZABLE',
        `Task "${request.task.name}" returned a value that cannot leave its thread as JSON: ${problem.path} ${problem.reason}.`,
      );
    }
    return { ok: true, result };
  } catch (error) {
    return { ok: false, failure: Failure.from(error).toJSON() };
  } finally {
    // The last message on the port: every report before it has been delivered.
    request.progress.postMessage({ done: true });
    request.progress.close();
  }
}

function revertOutcome(request: ThreadRequest) {
  const outcome = request.outcome;
  if (outcome === undefined || outcome.ok) return { ok: true as const, result: outcome?.result };
  return { ok: false as const, failure: Failure.fromJson(outcome.failure) };
}

function key(name: string, version: string): string {
  return `${name}@${version}`;
}

/** The module's tasks by name and version: its `tasks` export (an array or an object), else its default. */
function indexTasks(module: Record<string, unknown>): Map<string, Task> {
  const exported = module.tasks ?? module.default;
  const list = Array.isArray(exported)
    ? exported
    : typeof exported === 'object' && exported !== null
      ? Object.values(exported)
      : [];
  const byKey = new Map<string, Task>();
  for (const item of list) {
    if (item instanceof Task || isTaskLike(item))
      byKey.set(key(item.name, item.version), item as Task);
  }
  return byKey;
}

/** A task made by another copy of the library (the module may import its own). */
function isTaskLike(value: unknown): value is Task {
  const candidate = value as Partial<Task> | null;
  return (
    typeof candidate?.name === 'string' &&
    typeof candidate.version === 'string' &&
    candidate.kind === 'task' &&
    typeof candidate.execute === 'function'
  );
}

async function unknownTask(request: ThreadRequest): Promise<TaskFlowError> {
  const known = [...(await loaded).keys()];
  return new TaskFlowError(
    'UNKNOWN_TASK',
    `No task "${request.task.name}" in version ${request.task.version} is exported by ${moduleUrl} (it exports: ${known.join(', ') || 'no tasks'}); export it as part of "tasks" there, with the same version as in the flow.`,
  );
}
