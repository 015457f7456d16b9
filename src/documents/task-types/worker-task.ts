import type { Inputs } from '../../core/atom.ts';
import { TaskFlowError } from '../../core/errors.ts';
import { Failure, type JsonValue } from '../../core/failure.ts';
import { type AtomContext, type RevertContext, Task } from '../../core/task.ts';
import type { TaskNode } from '../document-schema.ts';
import type { WorkerTaskWakeUps } from '../workers/waking-queue.ts';
import type { WorkerTask as QueuedTask, WorkerTaskQueue } from '../workers/worker-task-queue.ts';
import { taskOptionsOf } from './atom-options.ts';

/** Where `worker` tasks are queued for external workers, and how often the engine looks. */
export interface WorkerEnvironment {
  readonly queue: WorkerTaskQueue;
  /**
   * How often a waiting task reads the queue for its outcome, in ms (default 50); a queue with
   * wake-ups wakes it at once when this process settles the task.
   */
  readonly pollMs?: number;
}

type WorkerTaskNode = Extract<TaskNode, { readonly type: 'worker' }>;

/**
 * A document's `worker` task: execute queues the task for external workers of its
 * `taskType` and waits until one completes it (its result) or fails it (its failure, as the
 * worker reported it). With `revert: true` the revert of a successful execute is queued too,
 * with the execute result. Offers are idempotent per atom, so an engine that resumes the atom
 * after a crash waits for the task already queued instead of queueing another.
 *
 * @example
 * new WorkerTask({ type: 'worker', name: 'resize', taskType: 'images.resize', requires: ['url'] }, { queue });
 */
export class WorkerTask extends Task<Inputs, JsonValue> {
  readonly taskType: string;
  readonly #revert: boolean;
  readonly #environment: WorkerEnvironment;

  constructor(node: WorkerTaskNode, environment: WorkerEnvironment) {
    super(taskOptionsOf(node));
    this.taskType = node.taskType;
    this.#revert = node.revert === true;
    this.#environment = environment;
  }

  async execute(inputs: Inputs, context: AtomContext): Promise<JsonValue> {
    const task = await this.#environment.queue.offer({
      type: this.taskType,
      kind: 'execute',
      runId: this.#runIdOf(context.idempotencyKey),
      atom: this.name,
      idempotencyKey: context.idempotencyKey,
      round: context.attempt,
      inputs: { ...inputs } as Record<string, JsonValue>,
    });
    return this.#outcome(task, context.signal);
  }

  override async revert(inputs: Inputs, context: RevertContext<JsonValue>): Promise<void> {
    if (!this.#revert || !context.outcome.ok) return;
    const task = await this.#environment.queue.offer({
      type: this.taskType,
      kind: 'revert',
      runId: this.#runIdOf(context.idempotencyKey),
      atom: this.name,
      idempotencyKey: `${context.idempotencyKey}:revert`,
      round: context.attempt,
      inputs: { ...inputs } as Record<string, JsonValue>,
      executeResult: context.outcome.result,
    });
    await this.#outcome(task, context.signal);
  }

  /** Waits until a worker settles the task; a failure it reported is this task's failure. */
  async #outcome(offered: QueuedTask, signal: AbortSignal): Promise<JsonValue> {
    const pollMs = this.#environment.pollMs ?? 50;
    const { queue } = this.#environment;
    let task: QueuedTask | undefined = offered;
    for (;;) {
      if (task === undefined) {
        throw new TaskFlowError(
          'WORKER_TASK_MISSING',
          `The worker task of "${this.name}" (${offered.id}) is no longer queued; was the queue's table cleared?`,
        );
      }
      if (task.state === 'COMPLETED') return task.result ?? null;
      if (task.state === 'FAILED' && task.failure !== undefined) {
        throw Failure.fromJson(task.failure).toError();
      }
      if (hasWakeUps(queue)) await queue.untilSettled(offered.id, pollMs, signal);
      else await sleep(pollMs, signal);
      signal.throwIfAborted();
      task = await queue.get(offered.id);
    }
  }

  /** The run id: the atom's idempotency key is `RUN_ID:ATOM_NAME`. */
  #runIdOf(idempotencyKey: string): string {
    return idempotencyKey.slice(0, Math.max(0, idempotencyKey.length - this.name.length - 1));
  }
}

function hasWakeUps(queue: WorkerTaskQueue): queue is WorkerTaskQueue & WorkerTaskWakeUps {
  return typeof (queue as Partial<WorkerTaskWakeUps>).untilSettled === 'function';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
  });
}
