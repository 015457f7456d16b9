import { availableParallelism } from 'node:os';
import { extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { TaskFlowError } from '../core/errors.ts';
import { Failure, FailureError } from '../core/failure.ts';
import type { ExecutionRequest, Executor } from '../engine/executor.ts';
import type { ThreadAnswer, ThreadData, ThreadRequest } from './thread-protocol.ts';

// The worker is the sibling file of this one: .ts when run from source, .js once built.
const WORKER = new URL(`./thread-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url)
  .href;

/** Options of a {@link ThreadExecutor}. */
export interface ThreadExecutorOptions {
  /**
   * The module the threads load their tasks from (a path, relative to the working directory,
   * or a file URL): it exports them as `tasks` (an array, or an object of tasks) or as its
   * default export. Each thread finds a task by name and version.
   */
  readonly tasks: string | URL;
  /**
   * Modules each thread imports before the tasks module, in order: one that registers a
   * loader, say, for task modules written in TypeScript and run from source
   * (`import { register } from 'tsx/esm/api'; register();`).
   */
  readonly preload?: readonly (string | URL)[];
  /** Threads at most; default the machine's parallelism. */
  readonly maxThreads?: number;
  /** Threads kept even when idle; default 0 (started on demand). */
  readonly minThreads?: number;
  /** Requests waiting for a thread at most; more are refused at once. Default no limit. */
  readonly maxQueue?: number;
  /** An idle thread ends after this long; default 10 s. */
  readonly idleTimeoutMs?: number;
}

/**
 * Runs tasks on a pool of worker threads (piscina), for CPU-bound work the engine's own thread
 * should not do. Results and errors cross as JSON and `Failure`s (type, message, stack, cause,
 * retryable survive); progress reports come back as they are made. A timeout or a cancel ends
 * the thread that runs the task (so the work really stops), and a thread that crashes fails its
 * atom, never the engine. Tasks choose it with `runsOn`.
 *
 * @example
 * const threads = new ThreadExecutor({ tasks: './tasks/hashing.ts', maxThreads: 2 });
 * const engine = new Engine(flow, { executors: { threads } }); // task({ ..., runsOn: 'threads' })
 * await engine.run();
 * await threads.close();
 */
export class ThreadExecutor implements Executor {
  readonly #pool: Piscina<ThreadRequest, ThreadAnswer>;
  readonly #module: string;

  constructor(options: ThreadExecutorOptions) {
    this.#module = moduleUrl(options.tasks);
    const workerData: ThreadData = {
      tasks: this.#module,
      preload: (options.preload ?? []).map(moduleUrl),
    };
    this.#pool = new Piscina({
      filename: WORKER,
      workerData,
      maxThreads: options.maxThreads ?? availableParallelism(),
      minThreads: options.minThreads ?? 0,
      idleTimeout: options.idleTimeoutMs ?? 10_000,
      ...(options.maxQueue === undefined ? {} : { maxQueue: options.maxQueue }),
    });
  }

  async run(request: ExecutionRequest): Promise<unknown> {
    request.signal.throwIfAborted();
    const { port1, port2 } = new MessageChannel();
    const reported = new Promise<void>((resolve) => {
      port1.on('message', (report: { fraction: number; details?: never; done?: true }) => {
        if (report.done) resolve();
        else request.progress(report.fraction, report.details);
      });
    });
    const message: ThreadRequest = {
      task: request.task,
      phase: request.phase,
      inputs: request.inputs,
      attempt: request.attempt,
      idempotencyKey: request.idempotencyKey,
      ...(request.outcome === undefined ? {} : { outcome: request.outcome }),
      progress: port2,
    };
    let answer: ThreadAnswer;
    try {
      answer = await this.#pool.run(message, { transferList: [port2], signal: request.signal });
      // Progress travels on its own port: let the reports made before the answer arrive first.
      await reported;
    } catch (error) {
      // Aborted: the engine already failed the atom with the reason (a timeout, a cancel).
      if (request.signal.aborted) throw request.signal.reason;
      throw new TaskFlowError(
        'THREAD_FAILED',
        `Task "${request.task.name}" did not finish on its worker thread: ${error instanceof Error ? error.message : String(error)}. The thread is replaced; the atom fails as if the task had thrown.`,
        { cause: error },
      );
    } finally {
      port1.close();
    }
    if (answer.ok) return answer.result;
    throw new FailureError(Failure.fromJson(answer.failure));
  }

  /** Ends the threads once the requests running finish. */
  async close(): Promise<void> {
    await this.#pool.close();
  }
}

function moduleUrl(tasks: string | URL): string {
  if (tasks instanceof URL) return tasks.href;
  if (tasks.startsWith('file:')) return tasks;
  return pathToFileURL(isAbsolute(tasks) ? tasks : resolve(tasks)).href;
}
