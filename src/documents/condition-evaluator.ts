import { createRequire } from 'node:module';
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from 'node:worker_threads';
import { TaskFlowError } from '../core/errors.ts';
import { MAX_EXPRESSION_STEPS } from './expressions.ts';

/**
 * Evaluates link conditions synchronously, as the engine calls deciders. Implementations must
 * never run document text as JavaScript.
 */
export interface ConditionEvaluator {
  /** JSONata's truth of `expression` over `input` with `$name` bindings; throws when it fails. */
  test(expression: string, input: unknown, bindings: Readonly<Record<string, unknown>>): boolean;
  /** Stops whatever the evaluator started; it starts again on the next `test`. */
  close(): Promise<void>;
}

/** Options of {@link WorkerConditionEvaluator}. */
export interface WorkerConditionEvaluatorOptions {
  /** Longest wait for one evaluation, the first (which starts the thread) excepted. Default 2 s. */
  readonly timeoutMs?: number;
  /** Longest wait for the first evaluation, while the thread starts. Default 20 s. */
  readonly startTimeoutMs?: number;
}

// The thread's code is ours, a constant, given as source so it runs the same from src/ (under
// tsx, whose loader a worker does not get) and from dist/. It loads JSONata and answers one
// request at a time: evaluate, post the answer, then wake the waiting caller.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const jsonata = require(workerData.jsonata);
const { port, signal, maxSteps } = workerData;
const entry = Symbol.for('jsonata.__evaluate_entry');
port.on('message', async ({ id, expression, input, bindings }) => {
  let answer;
  try {
    const compiled = jsonata(expression);
    let steps = 0;
    compiled.assign(entry, () => {
      if (++steps > maxSteps) throw new Error('it took over ' + maxSteps + ' steps');
    });
    const value = await compiled.evaluate(input, bindings);
    const truth = await jsonata('$boolean($v)').evaluate(undefined, { v: value });
    answer = { id, ok: true, value: truth === true };
  } catch (error) {
    answer = { id, ok: false, message: String(error && error.message ? error.message : error) };
  }
  port.postMessage(answer);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
`;

interface Answer {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: boolean;
  readonly message?: string;
}

/**
 * A {@link ConditionEvaluator} that runs JSONata (whose evaluation is asynchronous) on a worker
 * thread and waits for the answer with `Atomics.wait`, so a decider can stay synchronous. The
 * wait is bounded: an evaluation that takes too long is abandoned (the thread is replaced) and
 * the condition fails, which makes its link vote "no". The thread does not keep the process
 * alive.
 *
 * @example
 * const conditions = new WorkerConditionEvaluator();
 * conditions.test('$result.status = "outdated"', {}, { result: { status: 'outdated' } }); // true
 * await conditions.close();
 */
export class WorkerConditionEvaluator implements ConditionEvaluator {
  readonly #timeoutMs: number;
  readonly #startTimeoutMs: number;
  #thread: { worker: Worker; port: MessagePort; signal: Int32Array; fresh: boolean } | undefined;
  #nextId = 0;

  constructor(options: WorkerConditionEvaluatorOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 20_000;
  }

  /** Starts the thread ahead of the first condition, so the first decider does not wait for it. */
  warm(): void {
    this.#thread ??= this.#start();
  }

  test(expression: string, input: unknown, bindings: Readonly<Record<string, unknown>>): boolean {
    this.#thread ??= this.#start();
    const thread = this.#thread;
    const id = ++this.#nextId;
    Atomics.store(thread.signal, 0, 0);
    thread.port.postMessage({ id, expression, input, bindings });
    const timeout = thread.fresh ? this.#startTimeoutMs : this.#timeoutMs;
    const waited = Atomics.wait(thread.signal, 0, 0, timeout);
    thread.fresh = false;
    const answer = receiveMessageOnPort(thread.port)?.message as Answer | undefined;
    if (waited === 'timed-out' || answer === undefined || answer.id !== id) {
      this.#stop();
      throw new TaskFlowError(
        'CONDITION_TIMEOUT',
        `Condition ${JSON.stringify(expression)} gave no answer within ${timeout} ms and was abandoned; simplify it.`,
      );
    }
    if (!answer.ok) {
      throw new TaskFlowError(
        'CONDITION_FAILED',
        `Condition ${JSON.stringify(expression)} failed: ${answer.message}; fix the expression.`,
      );
    }
    return answer.value === true;
  }

  async close(): Promise<void> {
    const thread = this.#thread;
    this.#thread = undefined;
    if (thread !== undefined) {
      thread.port.close();
      await thread.worker.terminate();
    }
  }

  #start(): { worker: Worker; port: MessagePort; signal: Int32Array; fresh: boolean } {
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        port: port2,
        signal,
        maxSteps: MAX_EXPRESSION_STEPS,
        jsonata: createRequire(import.meta.url).resolve('jsonata'),
      },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    // A thread that dies makes its next condition time out, and the one after starts another.
    worker.on('error', () => {});
    return { worker, port: port1, signal, fresh: true };
  }

  #stop(): void {
    const thread = this.#thread;
    this.#thread = undefined;
    if (thread !== undefined) {
      thread.port.close();
      void thread.worker.terminate();
    }
  }
}
