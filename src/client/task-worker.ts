import type { JsonValue } from '../core/failure.ts';

/** A task a worker claimed from `POST /v1/tasks/claim`. */
export interface ClaimedTask {
  readonly id: string;
  readonly type: string;
  readonly kind: 'execute' | 'revert';
  readonly runId: string;
  readonly atom: string;
  readonly inputs: Readonly<Record<string, JsonValue>>;
  /** For a revert: what the execute returned. */
  readonly executeResult?: JsonValue;
  /** Deliveries of this task so far (2 after another worker's lease ran out). */
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly token: number;
  readonly leaseExpiresAt: string;
}

/** Does one task type: returns the result (execute) or anything (revert); throws to fail it. */
export type TaskHandler = (
  task: ClaimedTask,
  context: { readonly signal: AbortSignal },
) => JsonValue | undefined | Promise<JsonValue | undefined>;

/** Options of {@link runTaskWorker}. */
export interface TaskWorkerOptions {
  /** The service, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** A bearer token with the `operate` scope. */
  readonly token?: string;
  /** Its name on the tasks it holds. Default `ts-worker-PID`. */
  readonly worker?: string;
  /** One handler per task type it does. */
  readonly handlers: Readonly<Record<string, TaskHandler>>;
  /** How long one claim waits for a task (ms, at most 30,000). Default 10,000. */
  readonly waitMs?: number;
  /** Lease of each task (ms); it is renewed every third of it while the handler runs. Default 30,000. */
  readonly leaseMs?: number;
  /** Stops the worker: no new claim, the handler's signal aborts. */
  readonly signal?: AbortSignal;
  /** Stop after this many tasks. Default: until `signal` aborts. */
  readonly maxTasks?: number;
  /** Receives what went wrong around a task (a lost lease, a refused request); default ignored. */
  readonly onError?: (error: Error, task: ClaimedTask | undefined) => void;
}

/**
 * A TypeScript worker for the `worker` tasks of flow documents: claims tasks of its handlers'
 * types (long-polling), runs the handler with heartbeats keeping the lease, and completes the
 * task with the handler's result, or fails it with the error the handler threw (its `name`,
 * `message`, and `details` and `retryable` when the error has them). Resolves with the number
 * of tasks done once stopped.
 *
 * @example
 * const stop = new AbortController();
 * await runTaskWorker({
 *   url: 'http://127.0.0.1:8080', token: process.env.TASKFLOW_TOKEN, signal: stop.signal,
 *   handlers: { 'text.upper': (task) => String(task.inputs.text).toUpperCase() },
 * });
 */
export async function runTaskWorker(options: TaskWorkerOptions): Promise<number> {
  const types = Object.keys(options.handlers);
  const worker = options.worker ?? `ts-worker-${process.pid}`;
  const leaseMs = options.leaseMs ?? 30_000;
  const call = caller(options);
  let done = 0;
  while (!options.signal?.aborted && (options.maxTasks === undefined || done < options.maxTasks)) {
    let claimed: Response;
    try {
      // Only a waiting claim is cut by a stop: a task already done is still reported.
      claimed = await call(
        '/v1/tasks/claim',
        { types, worker, waitMs: options.waitMs ?? 10_000, leaseMs },
        options.signal,
      );
    } catch (error) {
      if (options.signal?.aborted) break;
      throw error;
    }
    if (claimed.status === 204) continue;
    if (claimed.status !== 200) throw await refusal(claimed, 'claim');
    const task = (await claimed.json()) as ClaimedTask;
    await runOne(task, options, call, leaseMs);
    done += 1;
  }
  return done;
}

type Call = (path: string, body: unknown, signal?: AbortSignal) => Promise<Response>;

function caller(options: TaskWorkerOptions): Call {
  const base = options.url.replace(/\/$/, '');
  return (path, body, signal) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }),
      },
      body: JSON.stringify(body),
      ...(signal === undefined ? {} : { signal }),
    });
}

async function runOne(
  task: ClaimedTask,
  options: TaskWorkerOptions,
  call: Call,
  leaseMs: number,
): Promise<void> {
  const handler = options.handlers[task.type];
  const controller = new AbortController();
  const stop = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', stop, { once: true });
  const beat = setInterval(() => {
    void call(`/v1/tasks/${task.id}/heartbeat`, { token: task.token, leaseMs }).then(
      async (response) => {
        if (response.ok) return;
        // The lease is gone: another worker has the task, so this one stops working on it.
        controller.abort(new Error(`lease of task ${task.id} lost`));
        options.onError?.(await refusal(response, 'heartbeat'), task);
      },
      (error: unknown) => options.onError?.(error as Error, task),
    );
  }, leaseMs / 3);
  let ending: { path: string; body: unknown };
  try {
    const result = await handler?.(task, { signal: controller.signal });
    ending = { path: 'complete', body: { token: task.token, result: result ?? null } };
  } catch (error) {
    const thrown = error as Error & { details?: unknown; retryable?: unknown };
    ending = {
      path: 'fail',
      body: {
        token: task.token,
        error: {
          type: thrown.name || 'Error',
          message: thrown.message || String(error),
          ...(thrown.details === undefined ? {} : { details: thrown.details }),
          retryable: thrown.retryable === true,
        },
      },
    };
  } finally {
    clearInterval(beat);
    options.signal?.removeEventListener('abort', stop);
  }
  const answer = await call(`/v1/tasks/${task.id}/${ending.path}`, ending.body);
  if (!answer.ok) options.onError?.(await refusal(answer, ending.path), task);
  else await answer.body?.cancel();
}

async function refusal(response: Response, what: string): Promise<Error> {
  const text = await response.text();
  let detail = text;
  try {
    detail = (JSON.parse(text) as { detail?: string }).detail ?? text;
  } catch {
    // Not a problem document: the text is the detail.
  }
  return new Error(`The service refused the ${what} (${response.status}): ${detail}`);
}
